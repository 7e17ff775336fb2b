"""Generated modules for the per-line cost: ordinary FastAPI code of any length,
and the shapes that would expose super-linear work in the rules.

Every module opens with the same application header (a session factory, a
yield dependency and CORS configured from the environment), so the pre-filter
lets every rule run on all of them."""

from __future__ import annotations

HEADER = """\
import os

from fastapi import Depends, FastAPI, HTTPException
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(bind=engine)
app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origins=[o for o in os.environ.get("ORIGINS", "").split(",") if o],
    allow_credentials=True,
)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
"""

BLOCK = """

class Item{i}(BaseModel):
    name: str
    price: float = 0.0


@app.get("/items{i}/{{item_id}}")
def read_item_{i}(item_id: int, db: Session = Depends(get_db)):
    row = db.execute(select(Item{i}).where(Item{i}.id == item_id)).first()
    if row is None:
        raise HTTPException(status_code=404, detail="not found")
    return {{"id": item_id, "name": row.name, "total": total_{i}([row.price])}}


def total_{i}(values):
    total = 0
    for value in values:
        if value > {i}:
            total += value * 2
    return total
"""


def lines_of(text: str) -> int:
    return text.count("\n")


def ordinary(lines: int) -> str:
    """About `lines` lines of a FastAPI application: models, routes with a session
    dependency, helpers."""
    parts = [HEADER]
    count = lines_of(HEADER)
    i = 0
    while count < lines:
        block = BLOCK.format(i=i)
        parts.append(block)
        count += lines_of(block)
        i += 1
    return "".join(parts)


def constants(n: int) -> str:
    """`n` module-level constants: bindings the scope model must record."""
    return HEADER + "".join(f'SETTING_{i} = "value-{i}"\n' for i in range(n))


def middleware_calls(n: int) -> str:
    """`n` add_middleware calls on one app: what the ordering rules compare."""
    return HEADER + "".join(
        f'app.add_middleware(CORSMiddleware, allow_origins=["https://a{i}.example.com"])\n' for i in range(n)
    )


def routes(n: int) -> str:
    """`n` routes, each with the session dependency."""
    return HEADER + "".join(
        f'\n@app.get("/r{i}")\ndef route_{i}(db: Session = Depends(get_db)):\n    return db.get(Item, {i})\n'
        for i in range(n)
    )
