"""The rules of the notifications service: pure Python, stdlib only, time passed in."""
