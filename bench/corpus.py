#!/usr/bin/env python3
"""Corpus of real FastAPI / Starlette applications taken from PyPI.

The benchmark and false-positive review of flake8-fastapi-cors run over the
source of released projects rather than hand-written fixtures.  This script
pins those projects (exact version, artifact file name and sha256), downloads
them with ``pip download --no-deps``, verifies the hashes and unpacks every
artifact, so that every machine sees byte-for-byte the same corpus.

Usage::

    python bench/corpus.py fetch [--jobs N]     # download, verify, unpack
    python bench/corpus.py list                 # every .py file, one per line
    python bench/corpus.py grep PATTERN [-n]    # files matching a regex

Every command accepts ``--set``: ``sweep`` (the default, the applications of the
sweep), ``bench`` (the benchmark's libraries and applications) or ``fixes``
(applications whose code has findings with fixes; bench/run.py fixes them), and
``--cache DIR``.  Without it the cache is taken from the
``FASTAPI_CORS_CORPUS`` environment variable, else
``~/.cache/flake8-fastapi-cors/corpus``.  Layout of the cache::

    <cache>/dist/<artifact>            verified wheels / sdists
    <cache>/src/<name>-<version>/      unpacked artifacts

``fetch`` is idempotent: artifacts already present with the right hash are not
downloaded again and unpacked trees are reused.  From Python, use::

    from corpus import corpus_files
    paths = corpus_files()            # sorted list of pathlib.Path

Only the standard library is needed, plus pip in the running interpreter for
``fetch``.  Downloads target CPython 3.12 on x86-64 Linux whatever the host, so
the pinned artifacts resolve the same way everywhere.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

CACHE_ENV = "FASTAPI_CORS_CORPUS"
DEFAULT_CACHE = Path("~/.cache/flake8-fastapi-cors/corpus")
TARGET_PYTHON = "3.12"
MARKER = ".corpus-sha256"

# name -> (version, artifact file name, sha256 of the artifact)
PACKAGES: dict[str, tuple[str, str, str]] = {
    # CORSMiddleware and SQLAlchemy / SQLModel sessions behind FastAPI routes.
    "prefect": (
        "3.9.1",
        "prefect-3.9.1-py3-none-any.whl",
        "0c662e26e971b617993eed1f3d02fb8bc3c2dd47bee521b495f6e4dfeb38ae74",
    ),
    "langflow-base": (
        "1.13.0",
        "langflow_base-1.13.0-py3-none-any.whl",
        "e15db23e16cf27d6d1ac8fcc5030cf25ad3a04356a9581862b4e97de739dd3a2",
    ),
    "arize-phoenix": (
        "20.26.1",
        "arize_phoenix-20.26.1-py3-none-any.whl",
        "dd318844cba1d7021d8accaa995b7f3716d559eab4afb549dfb1017dd51bab56",
    ),
    "argilla-server": (
        "2.8.0",
        "argilla_server-2.8.0-py3-none-any.whl",
        "e21a5c979ef6536fca634dc957469daca8fb09440c39b2fbeefb223459cc61e0",
    ),
    "dstack": (
        "0.22.5",
        "dstack-0.22.5-py3-none-any.whl",
        "e83cd6b7161f379ed173c012cd4d4149d1c395af6abf1dae61a9143f78e3cd04",
    ),
    "openhands-ai": (
        "1.11.0",
        "openhands_ai-1.11.0-py3-none-any.whl",
        "833de097150d498ffc7e175869df4723aec4a6b3c0be27545ca37089e6452c8f",
    ),
    "ethyca-fides": (
        "2.78.2",
        "ethyca_fides-2.78.2-py2.py3-none-any.whl",
        "702e5d6bb753ab6abe0d9ead99470012976b0f5552bee7b2a0a1b4a415728ca1",
    ),
    "apache-airflow-core": (
        "3.3.2",
        "apache_airflow_core-3.3.2-py3-none-any.whl",
        "99258922bccec15be4700ff89f3c942b8acd93407e263c287ce863e671bb3c50",
    ),
    "aim": (
        "3.29.1",
        "aim-3.29.1-cp312-cp312-manylinux_2_28_x86_64.whl",
        "15cea0c63d9a61812229d7140cec04f02117626d1724e10bebe410554f3f7561",
    ),
    "autogenstudio": (
        "0.4.2.2",
        "autogenstudio-0.4.2.2-py3-none-any.whl",
        "2d8393a2afac5a54107160a6186447f68ff0a2b9af26b94ed7efe18940574cdf",
    ),
    "zenml": (
        "0.98.0",
        "zenml-0.98.0-py3-none-any.whl",
        "801ffbe1821bd48dfc03c9fd5519f5a7d4387d86b3d48d08bd2057dfcde5ad30",
    ),
    "letta": (
        "0.16.8",
        "letta-0.16.8-py3-none-any.whl",
        "2d200cd13212c9232650c7efa16c0a4682ce5e89af8a0e53f3fbd09fc34091d3",
    ),
    "freqtrade": (
        "2026.9",
        "freqtrade-2026.9-py3-none-any.whl",
        "3cc4432381b83ec35000bff6b76f494fa3ec7d1681c7a45c04667dc063789fac",
    ),
    "guardrails-api": (
        "0.4.4",
        "guardrails_api-0.4.4-py3-none-any.whl",
        "d9a388e026d83cf72b2d6a3a2cc180c169648133c07e822c07a7d34e364f422d",
    ),
    "skypilot": (
        "0.14.1",
        "skypilot-0.14.1-py3-none-any.whl",
        "8201f566a051677713e288231c7a994e9ebb5ea79bea9bc36eeeffb654543d02",
    ),
    # CORSMiddleware (added, listed in Middleware(...), subclassed or wrapping an app).
    "chromadb": (
        "1.5.9",
        "chromadb-1.5.9-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "cc09b3df76e5a5cb386aed2715a2eea152e3949f9e1ba93c7119505377749929",
    ),
    "litellm": (
        "1.109.1",
        "litellm-1.109.1-cp310-abi3-manylinux_2_28_x86_64.whl",
        "1c8b4dd671fa0cd0850aa751678704ff77e595fb1e6085b2dc3be39ee19bdaaf",
    ),
    "gradio": (
        "6.31.0",
        "gradio-6.31.0-py3-none-any.whl",
        "7b50b9b6a2d23cd02851ad4c8b1c8312c88d8b911d1f29c93f9761c98348a64a",
    ),
    "fschat": (
        "0.2.36",
        "fschat-0.2.36-py3-none-any.whl",
        "a66ecf1e90f6db1d015096f6aa8a305d20d0a13e067951285aecdb56a33e9cb1",
    ),
    "chainlit": (
        "2.12.0",
        "chainlit-2.12.0-py3-none-any.whl",
        "17cbd2c408f775a123892984bf9170674b5c81a01f7a8af278912e2786253ffc",
    ),
    "reflex": (
        "0.10.1",
        "reflex-0.10.1-py3-none-any.whl",
        "85f2a80072ad98d9d9f94b4c25bf1680cadb51198914f1a994bdaded0c01be17",
    ),
    "lnbits": (
        "1.6.2",
        "lnbits-1.6.2-py3-none-any.whl",
        "25649a8b40f58e30e19aa9bb3c391a92b26e47cf9f028818fcab10b38a849339",
    ),
    "mlserver": (
        "1.7.1",
        "mlserver-1.7.1-py3-none-any.whl",
        "d2ac7502915bb5311343a878aa1fb614f9b0f2436ee550a6137c1872a4dca193",
    ),
    "feast": (
        "0.67.0",
        "feast-0.67.0-py3-none-any.whl",
        "98667313ae7663f3312174590461e28081112f46d982710867d4b97e0b0f2c66",
    ),
    "lightrag-hku": (
        "1.5.7",
        "lightrag_hku-1.5.7-py3-none-any.whl",
        "895b81d94ca447afc6290c0e049d339f6caed46fbf29e4324f6db987046c6fcb",
    ),
    "dbgpt": (
        "0.8.2",
        "dbgpt-0.8.2-py3-none-any.whl",
        "54e6b115521eb711ec04eddbd4d436a326c87e3644d643a7a8a904bb454a9b83",
    ),
    "khoj": (
        "1.42.10",
        "khoj-1.42.10-py3-none-any.whl",
        "03bb4ed6ce0189be5aa19453cd47ac4df27adc7508e6125b928b354d08d99b33",
    ),
    "agno": (
        "3.1.10",
        "agno-3.1.10-py3-none-any.whl",
        "ea1d0d2f8f7e8d0c413c2a1df57b4c784dac2f70ceac1f69b935fd8d2ef68c7e",
    ),
    "bentoml": (
        "1.4.40",
        "bentoml-1.4.40-py3-none-any.whl",
        "ba98c57c60f4ac0879cb8b0ae280ed42f96a26cccd0f83edcb8339d0634d9678",
    ),
    "hayhooks": (
        "2.1.0",
        "hayhooks-2.1.0-py3-none-any.whl",
        "c4ff59682988950fb035d5013ff84bafb82d5676d58f84615da9980556b9d747",
    ),
    "llama-stack": (
        "0.7.3",
        "llama_stack-0.7.3-py3-none-any.whl",
        "c7b3e07a6f45a5db0a7d8779c5008b347db5b1b33fce71078e8904590bf71263",
    ),
    "mcp": (
        "2.3.0",
        "mcp-2.3.0-py3-none-any.whl",
        "dd0c44c089d16453e8ae31a3877a0054d7a2314caaa81f5e0541b9b1734b2377",
    ),
    "mlflow-skinny": (
        "3.17.2",
        "mlflow_skinny-3.17.2-py3-none-any.whl",
        "31be9190494212ccd94774170fd06f6fe04d209aae3923eefd16f9bf7830d63c",
    ),
    "langgraph-api": (
        "0.16.7",
        "langgraph_api-0.16.7-py3-none-any.whl",
        "3c1dcddd1b0e4f345386d7075beaa88e3fb0fe7fc898e9816085dbf44012827e",
    ),
    "docling-serve": (
        "1.38.2",
        "docling_serve-1.38.2-py3-none-any.whl",
        "f309f1b88f4329f068526cc17f4b0c9f868fba19b64640c90a70ecca9f9ab166",
    ),
    "infinity-emb": (
        "0.0.78",
        "infinity_emb-0.0.78-py3-none-any.whl",
        "9e36195da10afb59aec97e348f6b08edf3aac540c66a22d54e4fe896cb01d8df",
    ),
    "vanna": (
        "2.0.2",
        "vanna-2.0.2-py3-none-any.whl",
        "d54f039572b0bcc520859ba99b7a587bdf96eebafc0c77c28fe44c0962550553",
    ),
    # SQLAlchemy sessions wired into FastAPI, no CORS configuration.
    "sqladmin": (
        "0.32.0",
        "sqladmin-0.32.0-py3-none-any.whl",
        "4f5cff4ab8e5349a3dcad17f3a4d46a7867b54b92ac45e5626fdb96e465c127f",
    ),
    "fastcrud": (
        "0.23.0",
        "fastcrud-0.23.0-py3-none-any.whl",
        "87ccb5125f5d5227a02ab38626e3261064dc7e5b72a2e53ed71076c1f4a5772a",
    ),
    "fastapi-amis-admin": (
        "0.7.3",
        "fastapi_amis_admin-0.7.3-py3-none-any.whl",
        "12768d95d73e759d6b275d7b8c3669bdf5a02e65d29ae0f100c56541e93e2f53",
    ),
    # FastAPI apps whose dependencies hand out SQLAlchemy / SQLModel sessions.
    # (fastapi and sqlmodel are sdists: their docs_src/ tutorials are the apps.)
    "datajunction-server": (
        "0.0.272",
        "datajunction_server-0.0.272-py3-none-any.whl",
        "01bf2166db0ee2b73f508348cc6bd49ec0a078975b8dd398eb4e3c2e66ae1cc6",
    ),
    "pyspur": (
        "0.1.18",
        "pyspur-0.1.18-py3-none-any.whl",
        "a85e952e46fc8243d5b1dfe85471d7f9ed05635628c51ca69c83066f65df60a2",
    ),
    "mlrun": (
        "1.5.2",
        "mlrun-1.5.2-py3-none-any.whl",
        "65ccad85edcf005983438b0b00ad1552ada95a82a0d763a8bd047a0ef297c185",
    ),
    "fief-server": (
        "0.30.0",
        "fief_server-0.30.0-py3-none-any.whl",
        "e524a9d690bda115d15b19fe5647293393f7a9e35f4c1e12b5b114ec03231af8",
    ),
    "cndb": (
        "0.4.18",
        "cndb-0.4.18-py3-none-any.whl",
        "6a149b2883ebdc0b5e3a3cf750cf49108f547abf01501d7058f63d7dc5c41a27",
    ),
    "savemycontext": (
        "0.2.4",
        "savemycontext-0.2.4-py3-none-any.whl",
        "ecb06f685d74d7d3e6b4b39b88bbeccc7c7248f56f95d11c3e405ea940d23853",
    ),
    "peaky-peek-server": (
        "0.6.0",
        "peaky_peek_server-0.6.0-py3-none-any.whl",
        "0ac8cfd9b3929d11b86ec2fdaecc25fd635240fecac5a4affa37086e725550a0",
    ),
    "arcsitegraph": (
        "0.1.16",
        "arcsitegraph-0.1.16-py3-none-any.whl",
        "c55b9b46aef78b246cd5507e546e453b35d30d73841862c4b74559c510b3e7af",
    ),
    "conda-store-server": (
        "2025.2.2",
        "conda_store_server-2025.2.2-py3-none-any.whl",
        "ea9bc3d61ec7f61f7ad6b1c28ae719dc06a9e36d04e22ff3bb869189a456784e",
    ),
    "cognee": (
        "1.6.5",
        "cognee-1.6.5-py3-none-any.whl",
        "aaef9fdc02f542b1d125cde21759dde2fac56355d8928e39c734e7b5c6705eca",
    ),
    "fastapi": (
        "0.165.0",
        "fastapi-0.165.0.tar.gz",
        "dd94d4128319c1e1d50535ab023ab698f850a4d2822f0e181747b46f4ff3c0ab",
    ),
    "sqlmodel": (
        "0.0.50",
        "sqlmodel-0.0.50.tar.gz",
        "8828720c5b6c397df72cdd055286846a352b614da80c1ba05ab7a57b2bb90821",
    ),
    "nova-admin": (
        "1.0.0",
        "nova_admin-1.0.0-py3-none-any.whl",
        "35a6c9b3dd9584fa6e2d4b26c7bd777ed5ce539eb4d19756e262a035de4d264a",
    ),
    "opsdeck": (
        "2.0.0",
        "opsdeck-2.0.0-py3-none-any.whl",
        "f693ee497dfae790ba2c416155e6596eed39f446eb2a0a1f2c6468a1be5ff62b",
    ),
    "fastapi-admin-kit": (
        "0.6.2",
        "fastapi_admin_kit-0.6.2-py3-none-any.whl",
        "a3b8c7ed171a78151a27c8c6c4b168e928cdbfe5de7faa77da73be97359dcd03",
    ),
    # FastAPI / Starlette applications with neither (negative controls).
    "nicegui": (
        "3.18.0",
        "nicegui-3.18.0-py3-none-any.whl",
        "a2bd51642312d98aab6d8b641245d796ff1b89da5829777170bcc488140c3dcd",
    ),
    "kserve": (
        "0.21.0",
        "kserve-0.21.0-py3-none-any.whl",
        "df9bc5888704d9085015e08f1a8fced5ff0698f3becc6212d4e7b8234c71623b",
    ),
    "fastapi-users": (
        "15.0.5",
        "fastapi_users-15.0.5-py3-none-any.whl",
        "10fd4f3e85ed66f694a6ca2ecac609af4e59d1f9ec64d1557f5912dccfd87c7f",
    ),
    "txtai": (
        "9.14.0",
        "txtai-9.14.0-py3-none-any.whl",
        "e507d34dddbfa27df9666d06bd92414cfdb739922365b72ca26d339f0262bbe7",
    ),
    "kedro-viz": (
        "12.5.0",
        "kedro_viz-12.5.0-py3-none-any.whl",
        "f70eb1d55a5f539ffff96a229128bf979208275e265f61c9c56b9286af746b44",
    ),
    "opal-server": (
        "0.9.9",
        "opal_server-0.9.9-py3-none-any.whl",
        "9f9307cc5432fd5a1992177a57a7eeb337e96eb554d6888a2322bb51bf1e8ff8",
    ),
}


# The benchmark's corpus (`--set bench`, used by bench/run.py): a few thousand
# files of libraries and applications of all kinds, so that the pre-filter meets
# the mix a FastAPI team's flake8 run sees. name -> (version, artifact, sha256,
# the folder of the unpacked artifact that is measured).
BENCH: dict[str, tuple[str, str, str, str]] = {
    # the framework with its tests and the docs examples (docs_src/)
    "fastapi": (*PACKAGES["fastapi"], "fastapi-0.165.0"),
    "starlette": (
        "1.10.0",
        "starlette-1.10.0.tar.gz",
        "b8399098d4c1e3522734f7235dc79b1fc967f96cf139c81e0fa30479e0685f9b",
        "starlette-1.10.0",
    ),
    "pydantic": (
        "2.14.3",
        "pydantic-2.14.3-py3-none-any.whl",
        "3f7b347782ab7e4cf4c798496ae3a82787d9f21ec12676a9c564355eeef8daa8",
        "pydantic",
    ),
    # the ORM package of SQLAlchemy: Session is defined and used on every page
    "sqlalchemy": (
        "2.1.9",
        "sqlalchemy-2.1.9.tar.gz",
        "d700a8b2edfb26282a470333d6bc4a454c4acda4d201a3bea7b72fa76c217d28",
        "sqlalchemy-2.1.9/lib/sqlalchemy/orm",
    ),
    # SQLModel with its docs examples: sessions in FastAPI apps
    "sqlmodel": (*PACKAGES["sqlmodel"], "sqlmodel-0.0.50"),
    # a FastAPI + SQLAlchemy application with CORS
    "fief-server": (*PACKAGES["fief-server"], "fief"),
}
# Applications whose released code has findings with fixes: bench/run.py fixes
# those files (found by running the fixer, not listed here) against Fixit.
FIXES: dict[str, tuple[str, str, str, str]] = {
    name: (*PACKAGES[name], "")
    for name in (
        "aim",
        "arcsitegraph",
        "autogenstudio",
        "infinity-emb",
        "langflow-base",
        "lnbits",
        "pyspur",
        "zenml",
    )
}
SETS = {"sweep": PACKAGES, "bench": BENCH, "fixes": FIXES}


class Package(NamedTuple):
    name: str
    version: str
    filename: str
    sha256: str
    subdir: str = ""  # the part of the unpacked artifact that is used ("" for all)


class CorpusError(RuntimeError):
    """A package could not be fetched, verified or found in the cache."""


def packages(which: str = "sweep") -> list[Package]:
    """The pinned packages of one set, in declaration order."""
    return [Package(name, *pin) for name, pin in SETS[which].items()]


def cache_dir(cache: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the cache: argument, then $FASTAPI_CORS_CORPUS, then default."""
    if cache is None:
        cache = os.environ.get(CACHE_ENV) or DEFAULT_CACHE
    return Path(cache).expanduser().resolve()


def source_dir(pkg: Package, cache: Path) -> Path:
    return cache / "src" / f"{pkg.name}-{pkg.version}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------
# download


def _pip_target_args(filename: str) -> list[str]:
    """pip options that make the pinned artifact the one pip selects."""
    py_nodot = TARGET_PYTHON.replace(".", "")
    if not filename.endswith(".whl"):
        return ["--no-binary=:all:", "--python-version", TARGET_PYTHON]
    args = [
        "--only-binary=:all:",
        "--python-version",
        TARGET_PYTHON,
        "--implementation",
        "cp",
        "--abi",
        f"cp{py_nodot}",
    ]
    platform_tag = filename[: -len(".whl")].split("-")[-1]
    if platform_tag != "any":
        for platform in platform_tag.split("."):
            args += ["--platform", platform]
    return args


def _download(pkg: Package, dist: Path) -> None:
    """Download one artifact into ``dist`` and verify its hash."""
    dist.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{pkg.name}-", dir=dist))
    try:
        requirement = work / "requirement.txt"
        # The hash in the requirement makes pip choose exactly the pinned file.
        requirement.write_text(f"{pkg.name}=={pkg.version} --hash=sha256:{pkg.sha256}\n")
        out = work / "out"
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-input",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            "--dest",
            str(out),
            *_pip_target_args(pkg.filename),
            "-r",
            str(requirement),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr).splitlines()
            tail = [line for line in output if not line.startswith("WARNING:")][-8:]
            raise CorpusError("pip download failed:\n" + "\n".join(tail))
        artifact = out / pkg.filename
        if not artifact.is_file():
            got = ", ".join(sorted(p.name for p in out.iterdir())) or "nothing"
            raise CorpusError(f"expected {pkg.filename}, pip downloaded {got}")
        actual = sha256_of(artifact)
        if actual != pkg.sha256:
            raise CorpusError(f"sha256 mismatch for {pkg.filename}: " f"expected {pkg.sha256}, got {actual}")
        os.replace(artifact, dist / pkg.filename)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------
# unpack


def _extract(archive: Path, dest: Path) -> None:
    name = archive.name
    if name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    elif name.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar")):
        with tarfile.open(archive) as tf:
            if hasattr(tarfile, "data_filter"):
                tf.extractall(dest, filter="data")
            else:
                tf.extractall(dest)
    else:
        raise CorpusError(f"unknown archive format: {name}")


def _is_unpacked(pkg: Package, cache: Path) -> bool:
    marker = source_dir(pkg, cache) / MARKER
    return marker.is_file() and marker.read_text().strip() == pkg.sha256


def _unpack(pkg: Package, archive: Path, cache: Path) -> Path:
    """Unpack ``archive`` into ``<cache>/src/<name>-<version>`` once."""
    dest = source_dir(pkg, cache)
    if _is_unpacked(pkg, cache):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{pkg.name}-", dir=dest.parent))
    try:
        _extract(archive, work)
        (work / MARKER).write_text(pkg.sha256 + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(work, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


# --------------------------------------------------------------------------
# fetch


class FetchResult(NamedTuple):
    package: Package
    downloaded: bool
    size: int
    files: int
    lines: int


def _count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if p.is_file())


def fetch_package(pkg: Package, cache: Path) -> FetchResult:
    """Make sure one package is downloaded, verified and unpacked."""
    archive = cache / "dist" / pkg.filename
    downloaded = False
    if not (archive.is_file() and sha256_of(archive) == pkg.sha256):
        _download(pkg, archive.parent)
        downloaded = True
    src = _unpack(pkg, archive, cache)
    files = _python_files(src / pkg.subdir)
    lines = sum(_count_lines(p.read_bytes()) for p in files)
    return FetchResult(pkg, downloaded, archive.stat().st_size, len(files), lines)


def fetch(cache: str | os.PathLike[str] | None = None, jobs: int = 3, which: str = "sweep") -> list[FetchResult]:
    """Fetch the whole corpus, printing one line per package and totals."""
    root = cache_dir(cache)
    if importlib.util.find_spec("pip") is None:
        raise CorpusError(f"pip is not available for {sys.executable}")
    results: list[FetchResult] = []
    errors: list[str] = []
    pins = packages(which)
    width = max(len(pkg.name) for pkg in pins)
    print(f"corpus cache: {root}")
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(fetch_package, pkg, root) for pkg in pins]
        for pkg, future in zip(pins, futures):
            try:
                res = future.result()
            except (CorpusError, OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
                errors.append(f"{pkg.name}: {exc}")
                summary = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                print(f"{pkg.name:<{width}}  ERROR  {summary}", flush=True)
                continue
            results.append(res)
            state = "downloaded" if res.downloaded else "cached"
            print(
                f"{pkg.name:<{width}}  {pkg.version:<10}  {state:<10}  "
                f"{res.size / 1e6:7.1f} MB  {res.files:6d} files  {res.lines:8d} lines",
                flush=True,
            )
    total_size = sum(r.size for r in results)
    fresh = sum(r.size for r in results if r.downloaded)
    print(
        f"total: {len(results)}/{len(pins)} packages, "
        f"{sum(r.files for r in results)} files, {sum(r.lines for r in results)} lines, "
        f"{total_size / 1e6:.1f} MB of artifacts ({fresh / 1e6:.1f} MB downloaded now)"
    )
    if errors:
        raise CorpusError(f"{len(errors)} package(s) failed:\n" + "\n".join(errors))
    return results


# --------------------------------------------------------------------------
# query


def corpus_files(cache: str | os.PathLike[str] | None = None, which: str = "sweep") -> list[Path]:
    """Every ``.py`` file of the unpacked corpus (one set of pins), sorted.

    Raises CorpusError when a pinned package has not been fetched yet.
    """
    root = cache_dir(cache)
    pins = packages(which)
    missing = [pkg.name for pkg in pins if not _is_unpacked(pkg, root)]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise CorpusError(
            f"{len(missing)} of {len(pins)} packages not fetched into {root} "
            f"({shown}); run: python bench/corpus.py fetch --set {which}"
        )
    files: list[Path] = []
    for pkg in pins:
        files.extend(_python_files(source_dir(pkg, root) / pkg.subdir))
    return sorted(files)


def grep(
    pattern: str, cache: str | os.PathLike[str] | None = None, ignore_case: bool = False, which: str = "sweep"
) -> list[tuple[Path, list[tuple[int, str]]]]:
    """Files whose text matches ``pattern`` (multi-line regex), with the hits."""
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    regex = re.compile(pattern, flags)
    found = []
    for path in corpus_files(cache, which):
        text = path.read_text(encoding="utf-8", errors="replace")
        hits = []
        for match in regex.finditer(text):
            lineno = text.count("\n", 0, match.start()) + 1
            start = text.rfind("\n", 0, match.start()) + 1
            end = text.find("\n", match.start())
            hits.append((lineno, text[start : end if end != -1 else None]))
        if hits:
            found.append((path, hits))
    return found


# --------------------------------------------------------------------------
# command line


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--cache",
        metavar="DIR",
        help=f"cache directory (default: ${CACHE_ENV} or {DEFAULT_CACHE})",
    )
    common.add_argument(
        "--set", dest="which", choices=sorted(SETS), default="sweep", help="which pins: the sweep's or the benchmark's"
    )
    parser = argparse.ArgumentParser(description="Pinned corpus of FastAPI / Starlette projects from PyPI.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_fetch = sub.add_parser("fetch", parents=[common], help="download, verify and unpack")
    p_fetch.add_argument("--jobs", "-j", type=int, default=3, help="parallel downloads")
    sub.add_parser("list", parents=[common], help="print every .py file of the corpus")
    p_grep = sub.add_parser("grep", parents=[common], help="print files matching a regex")
    p_grep.add_argument("pattern", help="Python regex, matched against whole files")
    p_grep.add_argument("-n", "--line-numbers", action="store_true", help="print each match as path:line: text")
    p_grep.add_argument("-i", "--ignore-case", action="store_true")
    args = parser.parse_args(argv)

    try:
        if args.command == "fetch":
            fetch(args.cache, jobs=args.jobs, which=args.which)
        elif args.command == "list":
            for path in corpus_files(args.cache, args.which):
                print(path)
        elif args.command == "grep":
            try:
                found = grep(args.pattern, args.cache, ignore_case=args.ignore_case, which=args.which)
            except re.error as exc:
                parser.error(f"invalid pattern: {exc}")
            for path, hits in found:
                if args.line_numbers:
                    for lineno, line in hits:
                        print(f"{path}:{lineno}: {line.strip()}")
                else:
                    print(path)
            print(f"{len(found)} file(s) match", file=sys.stderr)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Output piped into e.g. `head`: stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
