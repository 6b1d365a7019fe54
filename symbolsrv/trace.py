"""Lookup traces for humans: which locations were asked, what each said, how long it took.

Location names never carry credentials, and URLs are shown without their query string, so
a presigned signature never leaves through a trace.
"""

from __future__ import annotations

from symbolsrv.chain import Step


def _ordered(steps: list[Step]) -> list[Step]:
    return sorted(steps, key=lambda step: step.rank)


def header(steps: list[Step], winner: str | None) -> str:
    """`Symbolsrv-Trace` value, e.g. `1 s3:a absent 2.1ms; 2 s3:b hit 1.9ms; winner=s3:b`."""
    parts = [
        f"{step.rank} {step.location} {step.outcome} {step.seconds * 1000:.1f}ms"
        for step in _ordered(steps)
    ]
    parts.append(f"winner={winner or '-'}")
    # Names come from the INI; still, a header value must stay one printable ASCII line.
    text = "; ".join(parts)
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\r", " ").replace("\n", " ")


def body(path: str, answer, status: int, steps: list[Step]) -> dict:
    hit = answer.hit
    data = {
        "path": path,
        "key": answer.key.path if answer.key else None,
        "try": answer.is_try,
        "outcome": answer.outcome,
        "status": status,
        "reason": answer.reason or None,
        "winner": hit.location if hit else None,
        # The redirect target without its signature; a local file's path stays private.
        "url": hit.url.split("?", 1)[0] if hit and hit.url else None,
        "steps": [
            {"rank": s.rank, "location": s.location, "outcome": s.outcome,
             "ms": round(s.seconds * 1000, 3)}
            for s in _ordered(steps)
        ],
    }
    return data
