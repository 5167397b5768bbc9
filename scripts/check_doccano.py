"""Check labelgrow's doccano round trip against the real tool, offline: pre-annotate (doccano JSONL) -> import into a
local doccano through doccano-client -> export -> read back -> extend on the export.

Optional, not part of the test suite (it installs a web application). Set up once, beside .venv:

    python3 -m venv .venv-doccano && .venv-doccano/bin/pip install doccano "numpy<2"   # its pandas needs numpy 1
    python3 -m venv .venv-dclient && .venv-dclient/bin/pip install doccano-client==1.2.8 && \
        .venv-dclient/bin/pip install -U "requests-toolbelt>=1.0"      # its pin fails on urllib3 2
    python scripts/check_doccano.py --doccano-python .venv-doccano/bin/python \\
        --client-python .venv-dclient/bin/python \\
        --model runs/demo/facility --teacher runs/demo/teacher          # the demo's models (scripts/demo.sh)

doccano's own server (gunicorn) binds to 127.0.0.1, with its database, uploads and media in a temporary directory,
and runs its import/export tasks in the web process (Celery's eager mode, instead of a separate worker); it is
stopped at the end. Exit code 0 when every check holds; each check prints a line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_label_studio import TEXTS, annotate_texts, check, extend_on, free_port, wait_for  # shared with that check

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = """
from config.settings.production import *  # noqa: F401,F403
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_STORE_EAGER_RESULT = True  # the client polls the status of the import and export
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
MEDIA_ROOT = DJANGO_DRF_FILEPOND_FILE_STORE_PATH = {media!r}
DJANGO_DRF_FILEPOND_UPLOAD_TMP = {uploads!r}
DJANGO_DRF_FILEPOND_ALLOW_EXTERNAL_UPLOAD_DIR = True  # the temporary directory is outside doccano's own
"""

# Runs in the client's environment (doccano-client wants pydantic 1, doccano itself pydantic 2): a
# sequence-labelling project, the JSONL import, the export.
CLIENT_SCRIPT = r"""
import json, sys, zipfile
from doccano_client import DoccanoClient
url, user, password, tasks_path, out_dir = sys.argv[1:6]
client = DoccanoClient(url)
client.login(username=user, password=password)
project = client.create_project("labelgrow round trip", project_type="SequenceLabeling", description="check",
                                allow_overlapping=False)
# client.upload() leaves the encoding to doccano's guess, which reads UTF-8 with emoji as cp1252: name it
importer = client.data_import
upload_id = importer._data_upload_repository.upload(tasks_path)
task_id = importer._data_upload_repository.ingest(project.id, [upload_id], "SequenceLabeling", "JSONL",
                                                  column_data="text", column_label="label", encoding="utf_8")
status = importer._task_status_repository.wait(task_id)
path = client.download(project.id, "JSONL", only_approved=False, dir_name=out_dir)
import importlib.metadata as md
print(json.dumps({"doccano-client": md.version("doccano-client"),
                  "status": str(getattr(status, "status", status)), "export": str(path)}))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--doccano-python", required=True, help="the python of the venv doccano is installed in")
    p.add_argument("--client-python", required=True, help="the python of the venv doccano-client is installed in")
    p.add_argument("--model", default=str(ROOT / "runs/demo/facility"))
    p.add_argument("--teacher", default=str(ROOT / "runs/demo/teacher"))
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (its path is printed)")
    args = p.parse_args()
    venv = Path(args.doccano_python).parent
    backend = next(Path(venv.parent / "lib").glob("python3*/site-packages/backend"))

    work = Path(tempfile.mkdtemp(prefix="labelgrow-doccano-"))
    annotate_texts(work, args.model, args.teacher, "doccano")
    written = [json.loads(x) for x in (work / "tasks" / "tasks.jsonl").read_text().splitlines()]
    check(len(written) == len(TEXTS), f"labelgrow annotate wrote {len(written)} doccano lines")

    for folder in ("media", "uploads"):
        (work / folder).mkdir()
    (work / "lg_doccano_settings.py").write_text(
        SETTINGS.format(media=str(work / "media"), uploads=str(work / "uploads"))
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "lg_doccano_settings",
        "PYTHONPATH": f"{work}{os.pathsep}{backend}",
    }
    doccano = str(venv / "doccano")
    user, password = "admin", "labelgrow-check-password"
    for command in (["init"], ["createuser", "--username", user, "--password", password]):
        done = subprocess.run([doccano, *command], env=env, capture_output=True, text=True, cwd=backend)
        if done.returncode:
            raise SystemExit(f"doccano {command[0]} failed:\n{done.stderr[-3000:]}")
    port = free_port()
    log = (work / "server.log").open("w")  # closed by the OS when the script ends
    server = subprocess.Popen(
        [
            str(venv / "gunicorn"),
            "--chdir",
            str(backend),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "300",
            "config.wsgi",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/v1/health/", 300)
        print(f"ok   doccano answers at {url} (data in {work})", flush=True)
        done = subprocess.run(
            [
                args.client_python,
                "-c",
                CLIENT_SCRIPT,
                url,
                user,
                password,
                str(work / "tasks" / "tasks.jsonl"),
                str(work / "export"),
            ],
            capture_output=True,
            text=True,
            env={**os.environ},
        )
        if done.returncode:
            raise SystemExit(f"the doccano-client session failed:\n{done.stderr[-3000:]}")
        info = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    print("ok   doccano stopped", flush=True)

    exported = Path(info["export"])
    lines: list[dict] = []
    if exported.suffix == ".zip":
        with zipfile.ZipFile(exported) as archive:
            for name in archive.namelist():
                lines += [json.loads(x) for x in archive.read(name).decode().splitlines() if x.strip()]
    else:
        lines = [json.loads(x) for x in exported.read_text().splitlines() if x.strip()]
    check(len(lines) == len(TEXTS), f"the export holds {len(lines)} texts ({exported.name})")
    export_file = work / "export.jsonl"
    export_file.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    ours = {x["text"]: sorted(map(tuple, x["label"])) for x in written}
    theirs = {x["text"]: sorted(map(tuple, x.get("label", x.get("entities", [])))) for x in lines}
    check(ours == theirs, "every span comes back with the same offsets and label")
    for x in lines:
        for start, end, label in x.get("label", []):
            print(f"ok   {x.get('lang', '?')}: {x['text'][start:end]!r} {label} at [{start}, {end})")
    sys.path.insert(0, str(ROOT))
    from labelgrow.data import load_corpus

    corpus = load_corpus([str(export_file)])
    langs = sorted({s.lang for s in corpus.sentences})
    check(
        len(corpus.sentences) == len(TEXTS), f"labelgrow reads {len(corpus.sentences)} sentences ({', '.join(langs)})"
    )
    extend_on(export_file, args.teacher, work)
    server_version = subprocess.run(
        [args.doccano_python, "-c", "import importlib.metadata as m; print(m.version('doccano'))"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"verified with doccano {server_version}, doccano-client {info['doccano-client']}")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
