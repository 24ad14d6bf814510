"""The raw broker baseline: pika publishing with pipelined confirms (the same window as
InboundPublisher) into a quorum queue, and a consumer in another process acking each message;
same messages (body, properties, persistence) as the platform's inbound traffic."""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any

import pika
from pika.adapters.select_connection import SelectConnection

from services.integrator import OutboundMessage

EXCHANGE = "bench.raw"
QUEUE = "bench.raw"
PREFETCH = 20  # the platform's consumers: max_workers (10) x 2


def _declare(url: str) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
    ch.queue_declare(QUEUE, durable=True, arguments={
        "x-queue-type": "quorum", "x-delivery-limit": 5})
    ch.queue_bind(QUEUE, EXCHANGE, routing_key="#")
    conn.close()


def _consume(url: str, count: int, ready: Any, result: Any) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.basic_qos(prefetch_count=PREFETCH)
    seen = 0

    def on_message(channel: Any, method: Any, _props: Any, _body: bytes) -> None:
        nonlocal seen
        channel.basic_ack(method.delivery_tag)
        seen += 1
        if seen >= count:
            channel.stop_consuming()

    ch.basic_consume(QUEUE, on_message)
    ready.set()
    ch.start_consuming()
    result.put(time.monotonic())
    conn.close()


def _publish(url: str, messages: list[OutboundMessage], window: int) -> None:
    state = {"next": 0, "tag": 0, "acked": 0}
    outstanding: set[int] = set()
    failures: list[str] = []

    def pump(ch: Any) -> None:
        while state["next"] < len(messages) and len(outstanding) < window:
            m = messages[state["next"]]
            ch.basic_publish(EXCHANGE, m.routing_key, m.body, m.properties(), mandatory=True)
            state["next"] += 1
            state["tag"] += 1
            outstanding.add(state["tag"])

    def on_confirm(ch: Any, frame: Any) -> None:
        method = frame.method
        done = {t for t in outstanding if t <= method.delivery_tag} if method.multiple else {
            method.delivery_tag}
        outstanding.difference_update(done)
        if isinstance(method, pika.spec.Basic.Nack):
            failures.append(f"nacked up to {method.delivery_tag}")
        state["acked"] += len(done)
        if state["acked"] >= len(messages):
            conn.close()
        else:
            pump(ch)

    def on_channel(ch: Any) -> None:
        ch.confirm_delivery(lambda f: on_confirm(ch, f), callback=lambda _f: pump(ch))

    conn = SelectConnection(pika.URLParameters(url),
                            on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
                            on_close_callback=lambda c, _r: c.ioloop.stop())
    conn.ioloop.start()
    if failures or state["acked"] < len(messages):
        raise RuntimeError(f"baseline publish incomplete: {state['acked']} acked, {failures[:3]}")


def run(url: str, messages: list[OutboundMessage], window: int) -> dict[str, float]:
    """msgs/s from the first publish until the consumer acked the last message."""
    _declare(url)
    ctx = mp.get_context("fork")
    ready, result = ctx.Event(), ctx.Queue()
    consumer = ctx.Process(target=_consume, args=(url, len(messages), ready, result), daemon=True)
    consumer.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("baseline consumer did not start")
        started = time.monotonic()
        _publish(url, messages, window)
        published = time.monotonic()
        finished = result.get(timeout=300)
    finally:
        consumer.join(10)
        if consumer.is_alive():
            consumer.kill()
    conn = pika.BlockingConnection(pika.URLParameters(url))
    conn.channel().queue_delete(QUEUE)
    conn.close()
    return {"rate": len(messages) / (finished - started),
            "publish_rate": len(messages) / (published - started)}
