"""Check labelgrow's Label Studio round trip against the real tool, offline: pre-annotate -> import into a local Label
Studio -> annotate through its API (as a person accepting and correcting the predictions) -> export -> read back ->
extend on the export.

Optional, not part of the test suite (it installs a web application). Set up once, beside .venv:

    python3 -m venv .venv-ls && .venv-ls/bin/pip install label-studio     # brings label-studio-sdk
    python scripts/check_label_studio.py --label-studio .venv-ls/bin/label-studio \\
        --model runs/demo/facility --teacher runs/demo/teacher          # the demo's models (scripts/demo.sh)

The server binds to 127.0.0.1 with a temporary data directory and is stopped at the end; nothing leaves the machine.
Exit code 0 when every check holds; each check prints a line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    ("en", "👋🏽 Angela Merkel landed in Hamburg at Heathrow Airport on Monday ."),  # entities after an emoji
    ("de", "Das Café\u0301 am Hauptbahnhof in Hamburg öffnet um acht ."),  # a decomposed accent
    ("zh", "我们一早降落在首都国际机场。"),
    ("de", "Gestern war die Elbphilharmonie in Hamburg ausverkauft ."),
    ("en", "Nothing to tag in this one ."),
]

# Runs in the Label Studio environment (where label-studio-sdk is): a project, the tasks, one annotation per task
# made from its prediction (the last span of the first task with two or more is deleted, as a person might), export.
SDK_SCRIPT = r"""
import json, sys
from label_studio_sdk import LabelStudio
url, token, config_path, tasks_path, export_path = sys.argv[1:6]
ls = LabelStudio(base_url=url, api_key=token)
project = ls.projects.create(title="labelgrow round trip", label_config=open(config_path).read())
tasks = json.load(open(tasks_path))
ls.projects.import_tasks(id=project.id, request=tasks, commit_to_project=True)
edited = False
for task in ls.tasks.list(project=project.id):
    prediction = task.predictions[0] if task.predictions else None
    result = [dict(r) for r in (prediction["result"] if isinstance(prediction, dict) else prediction.result)]
    if not edited and len(result) >= 2:
        result = result[:-1]
        edited = True
    ls.annotations.create(id=task.id, result=result, was_cancelled=False, ground_truth=False)
export = ls.projects.exports.as_json(project.id)
json.dump(export, open(export_path, "w"), ensure_ascii=False)
import label_studio_sdk, importlib.metadata as md
print(json.dumps({"label-studio": md.version("label-studio"), "label-studio-sdk": md.version("label-studio-sdk"),
                  "tasks": len(tasks), "edited": edited}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(2)
    raise SystemExit(f"Label Studio did not answer at {url} within {seconds:.0f} s")


def check(ok: bool, what: str) -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        raise SystemExit(1)


def labelgrow(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "labelgrow.cli", *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"labelgrow {' '.join(args[:1])} failed:\n{done.stderr[-3000:]}")
    return done


def annotate_texts(work: Path, model: str, teacher: str, fmt: str) -> Path:
    """TEXTS as JSON lines, pre-annotated by ``labelgrow annotate`` in ``fmt``; returns the tasks directory."""
    raw = work / "raw.jsonl"
    raw.write_text("".join(json.dumps({"text": t, "lang": lang}, ensure_ascii=False) + "\n" for lang, t in TEXTS))
    tasks = work / "tasks"
    labelgrow(
        "annotate",
        "--model",
        model,
        "--teacher",
        teacher,
        "--input",
        str(raw),
        "--output",
        str(tasks),
        "--format",
        fmt,
        "--cpu",
    )
    return tasks


def extend_on(export: Path, teacher: str, work: Path) -> None:
    """The last check of both round trips: ``labelgrow extend`` trains on the tool's export."""
    labelgrow(
        "extend",
        "--base",
        teacher,
        "--new-labels",
        "FACILITY",
        "--train",
        str(export),
        "--output",
        str(work / "grown"),
        "--max-steps",
        "2",
        "--batch-size",
        "2",
        "--cpu",
    )
    check((work / "grown" / "labelgrow.json").exists(), "labelgrow extend trained on the export")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--label-studio", default=shutil.which("label-studio"), help="the label-studio executable")
    p.add_argument("--model", default=str(ROOT / "runs/demo/facility"))
    p.add_argument("--teacher", default=str(ROOT / "runs/demo/teacher"))
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (its path is printed)")
    args = p.parse_args()
    if not args.label_studio or not Path(args.label_studio).exists():
        raise SystemExit("no label-studio executable: install it in its own venv and pass --label-studio PATH")
    sdk_python = str(Path(args.label_studio).with_name("python"))

    work = Path(tempfile.mkdtemp(prefix="labelgrow-ls-"))
    annotate_texts(work, args.model, args.teacher, "label-studio")
    tasks = json.loads((work / "tasks" / "tasks.json").read_text())
    check(len(tasks) == len(TEXTS), f"labelgrow annotate wrote {len(tasks)} Label Studio tasks")

    port, token = free_port(), "labelgrow-check-token-0123456789abcdef"
    env = {
        **os.environ,
        "LABEL_STUDIO_USERNAME": "check@labelgrow.local",
        "LABEL_STUDIO_PASSWORD": "labelgrow-check-password",
        "LABEL_STUDIO_USER_TOKEN": token,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "COLLECT_ANALYTICS": "false",
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
    }
    log = (work / "server.log").open("w")  # closed by the OS when the script ends
    server = subprocess.Popen(
        [
            args.label_studio,
            "start",
            "--no-browser",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(work / "ls-data"),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/health", 600)
        print(f"ok   Label Studio answers at {url} (data in {work / 'ls-data'})", flush=True)
        done = subprocess.run(
            [
                sdk_python,
                "-c",
                SDK_SCRIPT,
                url,
                token,
                str(work / "tasks" / "label_config.xml"),
                str(work / "tasks" / "tasks.json"),
                str(work / "export.json"),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SystemExit(f"the label-studio-sdk session failed:\n{done.stderr[-3000:]}")
        versions = json.loads(done.stdout.strip().splitlines()[-1])
        check(versions["edited"], "annotated every task through the SDK (one prediction deleted, the rest accepted)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    print("ok   Label Studio stopped", flush=True)

    export = json.loads((work / "export.json").read_text())
    check(len(export) == len(TEXTS), f"the export holds {len(export)} tasks")
    sys.path.insert(0, str(ROOT))
    from labelgrow.data import load_corpus

    corpus = load_corpus([str(work / "export.json")])
    predicted = {t["data"]["text"]: t["predictions"][0]["result"] for t in tasks}
    exported = {t["data"]["text"]: t["annotations"][-1]["result"] for t in export}
    same = sum(
        [(r["value"]["start"], r["value"]["end"], r["value"]["labels"]) for r in exported[text]]
        == [(r["value"]["start"], r["value"]["end"], r["value"]["labels"]) for r in spans]
        for text, spans in predicted.items()
    )
    check(same == len(TEXTS) - 1, f"offsets and labels come back unchanged in {same} tasks, the edited one differs")
    for task in export:
        text = task["data"]["text"]
        for r in task["annotations"][-1]["result"]:
            check(
                text[r["value"]["start"] : r["value"]["end"]] == r["value"]["text"],
                f"{task['data'].get('lang')}: {r['value']['text']!r} at [{r['value']['start']}, {r['value']['end']})",
            )
    langs = sorted({s.lang for s in corpus.sentences})
    check(
        len(corpus.sentences) == len(TEXTS) and langs == ["de", "en", "zh"],
        f"labelgrow reads {len(corpus.sentences)} sentences in {', '.join(langs)}",
    )
    extend_on(work / "export.json", args.teacher, work)
    print(f"verified with label-studio {versions['label-studio']}, label-studio-sdk {versions['label-studio-sdk']}")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
