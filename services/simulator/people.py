"""Personal data that no one could mistake for a real person's: every name carries "Mẫu"
(sample), ID numbers start with zeros no province uses, e-mail is @example.com (reserved),
phone numbers start 09000."""

from __future__ import annotations

import random

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
            "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý")
MIDDLE_NAMES = ("Văn", "Thị", "Minh", "Đức", "Ngọc", "Thu", "Hữu", "Quang", "Thanh", "Hoài")
ORGANISATIONS = {2: "Công ty TNHH Mẫu", 3: "Cơ quan Mẫu", 4: "Hợp tác xã Mẫu"}


def fake_person(rng: random.Random, applicant_type: int) -> dict[str, str]:
    n = rng.randrange(10000)
    if applicant_type == 1:
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE_NAMES)} Mẫu {n:04d}"
        id_number = f"000{rng.randrange(10**9):09d}"  # 12 digits, like a citizen ID
    else:
        name = f"{ORGANISATIONS.get(applicant_type, 'Tổ chức Mẫu')} {n:04d}"
        id_number = f"0000{rng.randrange(10**6):06d}"  # 10 digits, like a tax code
    return {
        "holder_name": name,
        "holder_id_number": id_number,
        "email": f"mau.{n:04d}@example.com",
        "phone": f"09000{rng.randrange(10**5):05d}",
    }
