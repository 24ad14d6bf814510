"""One line of the demo's progress, read from the services' /metrics pages."""

import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def scrape(address: str) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://{address}/metrics", timeout=5).read().decode()
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "parpulse_messages_consumed_total":
                key = f"{s.labels['queue']}:{s.labels['outcome']}"
                found[key] = found.get(key, 0) + s.value
            elif s.name == "parpulse_alerts_raised_total":
                found["alerts"] = found.get("alerts", 0) + s.value
    return found


def main() -> None:
    totals: dict[str, float] = {}
    for address in sys.argv[1:]:
        try:
            totals.update(scrape(address))
        except OSError:
            pass
    inbound = totals.get("dossiers.inbound:processed", 0)
    quarantined = totals.get("dossiers.inbound:quarantined", 0)
    scored = totals.get("scoring.dossier-events:processed", 0)
    print(f"  inbound messages {inbound:.0f} (quarantined {quarantined:.0f}), "
          f"events scored {scored:.0f}, alerts raised {totals.get('alerts', 0):.0f}")


if __name__ == "__main__":
    main()
