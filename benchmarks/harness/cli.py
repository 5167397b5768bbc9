"""The command line every scenario shares, and the grid runner: teacher seeds x seeds, each method on its cells,
the joint bound, scores, tables and figure in OUT/results.{json,md,png}."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from harness import render
from harness.data import rehearsal_files
from harness.protocol import Scenario
from harness.runs import ROOT, Progress, interpolate_once, train_once, trained_by
from harness.scoring import evaluate, load_sets, mean, model_tags, repeated_copies, throughput

# what a row of an adapting method keeps of its adapted teacher's own scores (against the original teacher)
ADAPTED_TEACHER_FIGURES = (
    "old_f1",
    "old_f1_mean",
    "forgetting",
    "forgetting_mean",
    "forgetting_max",
    "changes",
    "carried_f1",
    "carried_forgetting",
)


# --quick: tiny subsets and one epoch, a smoke run in minutes (a scenario overrides what it must: {**QUICK, ...})
QUICK: dict[str, Any] = {
    "teacher_sentences": 150,
    "new_sentences": 80,
    "eval_sentences": 60,
    "new_eval_sentences": 30,
    "rehearsal_sentences": 40,
    "epochs": 1.0,
}


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, help="YAML with any of the options below; options typed here win")
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    p.add_argument("--encoder", default="runs/me5s-xlmr", help="the plain encoder teachers are built from")
    p.add_argument("--teacher", help="an existing teacher (skips building one; the teacher seeds are then unused)")
    p.add_argument("--out", default=None)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--teacher-epochs", type=float, default=1.0)
    p.add_argument("--learning-rate", type=float, default=5e-5)
    p.add_argument("--teacher-learning-rate", type=float, default=1e-4)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--eval-batch-size", type=int, default=64)
    p.add_argument("--max-length", type=int, default=None)
    p.add_argument(
        "--min-steps", type=int, default=None, help="labelgrow extend --min-steps (default: labelgrow's own)"
    )
    p.add_argument("--teacher-sentences", type=int, default=4000, help="WikiANN train sentences per language")
    p.add_argument("--new-sentences", type=int, default=1500, help="new-type training sentences per language")
    p.add_argument("--eval-sentences", type=int, default=1000, help="WikiANN test sentences per language")
    p.add_argument("--new-eval-sentences", type=int, default=500, help="new-type test sentences per language")
    p.add_argument(
        "--rehearsal-sentences",
        type=int,
        default=500,
        help="raw WikiANN sentences per scored language for the rehearsal methods (harness.data.wikiann_rehearsal)",
    )
    p.add_argument("--teacher-seeds", type=int, nargs="+", default=[42], help="one teacher per seed")
    p.add_argument("--seeds", type=int, nargs="+", default=[42], help="extension seeds (grid methods run them all)")
    p.add_argument("--methods", nargs="*", help="method keys or names to run (default: all)")
    p.add_argument("--no-joint", action="store_true", help="skip the joint-training upper bound")
    p.add_argument(
        "--joint-epochs",
        type=float,
        default=None,
        help="epochs of the joint bound (default: --teacher-epochs + --epochs, the passes a grown model has had in "
        "all; at --teacher-epochs alone the bound fell below the methods it should bound)",
    )
    p.add_argument("--no-throughput", action="store_true", help="skip the inference speed comparison")
    p.add_argument(
        "--score-repeats",
        action="store_true",
        help="score a sentence that an evaluation set repeats word for word as often as it occurs (the figures "
        "published before 2026-12-01 did; default: once)",
    )
    p.add_argument("--cpu", action="store_true")
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--quick", action="store_true", help="tiny subsets and 1 epoch: a smoke run in minutes")
    p.add_argument(
        "--reuse-other-code",
        action="store_true",
        help="reuse finished runs with the same settings even where labelgrow's training code has changed since "
        "(each row records the code that trained it); for expensive teachers after changes that do not touch "
        "training. A run made under another labelgrow default than today's is trained again all the same",
    )
    p.add_argument(
        "--render-only",
        action="store_true",
        help="write results.md and results.png again from OUT/results.json (nothing is trained or scored)",
    )
    return p


def parse(p: argparse.ArgumentParser, quick: dict[str, Any], argv: list[str] | None = None) -> argparse.Namespace:
    """Options from the command line, then --config for the ones not typed, then the defaults."""
    args = p.parse_args(argv)
    if args.config:
        typed = argparse.ArgumentParser(add_help=False)
        for action in p._actions:
            if action.option_strings and action.dest != "help":
                kwargs = {"nargs": action.nargs} if action.nargs not in (None, 0) else {}
                if action.nargs == 0:
                    typed.add_argument(*action.option_strings, dest=action.dest, action="store_const", const=True)
                else:
                    typed.add_argument(*action.option_strings, dest=action.dest, **kwargs)
        given = {k for k, v in vars(typed.parse_known_args(argv, argparse.Namespace())[0]).items() if v is not None}
        for key, value in (yaml.safe_load(args.config.read_text()) or {}).items():
            dest = key.replace("-", "_")
            if not hasattr(args, dest):
                sys.exit(f"{args.config}: unknown option {key}")
            if dest not in given:
                setattr(args, dest, value)
    if args.quick:
        vars(args).update(quick)
    return args


def out_dir(args, default: str) -> Path:
    """--out, else ``default``; a --quick run writes beside it, in ``*-quick``."""
    out = Path(args.out or default)
    return out.with_name(out.name + "-quick") if args.quick else out


def common_settings(args) -> dict[str, Any]:
    settings = {
        "epochs": args.epochs,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "cpu": args.cpu,
        "bf16": args.bf16,
        "overwrite": True,
    }
    if args.min_steps is not None:  # only when given: the settings (and so the run cache) are unchanged otherwise
        settings["min_steps"] = args.min_steps
    return settings


def build_teacher(scenario: Scenario, args, files: dict[str, Any], out: Path, seed: int | None) -> str:
    """The teacher of one grid row: --teacher as given, else trained from the encoder on the scenario's data."""
    if args.teacher:
        return args.teacher
    teacher = str(out / f"teacher-s{seed}")
    train_once(
        {
            "base": args.encoder,
            "new_labels": list(scenario.old_types),
            "train": [str(p) for p in files["teacher"]],
            "output": teacher,
            **common_settings(args),
            "epochs": args.teacher_epochs,
            "freeze_layers": 0,
            "learning_rate": args.teacher_learning_rate,
            "seed": seed,
        },
        f"teacher (seed {seed})",
        args.reuse_other_code,
    )
    return teacher


def grow(scenario: Scenario, args, files: dict[str, Any], teacher: str, method, seed: int, cell: Path):
    """One method at one cell: trained (or derived by interpolation); returns its cost (None when not trained)."""
    if method.interpolate is not None:
        student = cell.parent / f"{scenario.method(scenario.default).key}-s{seed}"
        interpolate_once(student, teacher, method.interpolate, cell)
        return None
    config = {
        "base": adapt_teacher(args, files, teacher, method, cell) if method.adapt else teacher,
        "new_labels": list(scenario.new_types),
        "train": [str(p) for p in files["new"]],
        "label_map": str(files["full_map" if method.full_data else "new_map"]),
        "parent": {k: list(v) for k, v in scenario.parents.items()},
        "output": str(cell),
        **common_settings(args),
        "seed": seed,
        **method.options,
    }
    if method.rehearsal:
        config["rehearsal"] = rehearsal_files(files, method.rehearsal, args)
    config.update({option: str(files[key]) for option, key in method.file_options.items()})
    return train_once(config, f"{method.name} ({cell.parent.name}, seed {seed})", args.reuse_other_code)


def adapted_teacher(cell: Path, method) -> Path:
    """Where the cell's teacher adapted to ``method.adapt``'s text lives: one per teacher, shared by its seeds."""
    return cell.parent / f"adapted-{method.adapt}"


def adapt_teacher(args, files: dict[str, Any], teacher: str, method, cell: Path) -> str:
    """The teacher after ``labelgrow adapt`` on the scenario's ``method.adapt`` text (trained once, then reused)."""
    output = adapted_teacher(cell, method)
    config = {
        "model": teacher,
        "raw": [str(p) for p in files[method.adapt]],
        "output": str(output),
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "cpu": args.cpu,
        "bf16": args.bf16,
        "seed": args.seeds[0],
        "overwrite": True,
    }
    if args.min_steps is not None:
        config["min_steps"] = args.min_steps
    train_once(config, f"teacher adapted to {method.adapt} ({cell.parent.name})", args.reuse_other_code, "adapt")
    return str(output)


def render_only(scenario: Scenario, out: Path) -> dict[str, Any]:
    """The tables and the figure again from a finished run's results.json."""
    result = json.loads((out / "results.json").read_text(encoding="utf-8"))
    write(scenario, result, out, save_json=False)
    return result


def run(scenario: Scenario, args, files: dict[str, Any], out: Path) -> dict[str, Any]:
    """Every cell of the grid: the first seed of every teacher before the other seeds, the joint bound last (so
    that an interrupted run has the widest comparison first); returns (and writes) the results."""
    started = time.time()
    chosen = [m for m in scenario.methods if not args.methods or m.key in args.methods or m.name in args.methods]
    teacher_seeds = [None] if args.teacher else list(args.teacher_seeds)
    runs = [(t, m, s) for m in chosen for t, s in m.runs_on(teacher_seeds, args.seeds)]
    runs.sort(key=lambda r: (args.seeds.index(r[2]), teacher_seeds.index(r[0])))
    progress = Progress(len(runs) + len(teacher_seeds) + (0 if args.no_joint or scenario.joint is None else 1))
    sets = load_sets(files, repeats=args.score_repeats)
    rows, teachers, teacher_dirs, teacher_tags = [], [], {}, {}

    def teacher_of(seed: int | None) -> str:
        """Built (and scored) when a cell first needs it, so an interrupted run has whole teachers' rows."""
        if seed not in teacher_dirs:
            teacher_dirs[seed] = build_teacher(scenario, args, files, out, seed)
            teacher_tags[seed] = model_tags(teacher_dirs[seed], sets, args.eval_batch_size)
            teacher_row = {"method": "teacher", "teacher_seed": seed, "seed": seed}
            teacher_row["code"] = trained_by(Path(teacher_dirs[seed]))
            teacher_row.update(evaluate(teacher_dirs[seed], sets, None, scenario, args.eval_batch_size))
            teachers.append(teacher_row)
            progress.step(f"teacher (seed {seed}): old F1 {teacher_row['old_f1_mean']:.1f}")
        return teacher_dirs[seed]

    for teacher_seed, method, seed in runs:
        cell = out / "methods" / f"t{teacher_seed}" / f"{method.key}-s{seed}"
        cost = grow(scenario, args, files, teacher_of(teacher_seed), method, seed, cell)
        row = {"method": method.name, "teacher_seed": teacher_seed, "seed": seed, "output": str(cell)}
        row["code"] = trained_by(cell)
        size = args.eval_batch_size
        row.update(evaluate(str(cell), sets, teacher_tags[teacher_seed], scenario, size))
        if cost:
            row["cost"] = cost
        if method.adapt:  # what adaptation alone did to the teacher, before any new type
            alone = evaluate(str(adapted_teacher(cell, method)), sets, teacher_tags[teacher_seed], scenario, size)
            row["adapted_teacher"] = {k: v for k, v in alone.items() if k in ADAPTED_TEACHER_FIGURES}
        if scenario.extra:
            row["extra"] = scenario.extra(str(cell), files)
        rows.append(row)
        progress.step(
            f"{method.name} t{teacher_seed}/s{seed}: forgetting {render.fmt(row.get('forgetting_mean'))}, not "
            f"refinement {render.fmt(row.get('not_refinement_mean'))}, new F1 {render.fmt(row.get('new_f1_mean'))}"
        )
    bound = None
    if not args.no_joint and scenario.joint is not None:  # last: the most expensive single run
        config = scenario.joint(args, out, files)
        seed = teacher_seeds[0] if teacher_seeds[0] is not None else args.seeds[0]
        config.update({"output": str(out / "methods" / "joint"), **common_settings(args), "seed": seed})
        epochs = args.joint_epochs or args.teacher_epochs + args.epochs
        config.update({"epochs": epochs, "freeze_layers": 0, "learning_rate": args.teacher_learning_rate})
        cost = train_once(config, "joint training upper bound", args.reuse_other_code)
        row = {"method": "joint training upper bound", "teacher_seed": teacher_seeds[0], "seed": seed, "cost": cost}
        row.update(evaluate(str(out / "methods" / "joint"), sets, None, scenario, args.eval_batch_size))
        rows.append(row)
        bound = row.get("new_f1_mean")
        progress.step(f"joint bound: new F1 {render.fmt(bound)}")
    speed = None
    default_rows = [r for r in rows if r["method"] == scenario.default]
    if default_rows and not args.no_throughput:
        speed = throughput(default_rows[0]["output"], sets["retention"], args.eval_batch_size)
    result = {
        "scenario": scenario.name,
        "settings": {k: v for k, v in vars(args).items() if k != "config"},
        "teachers": teachers,
        "cells": rows,
        "joint_new_f1": bound,
        "inference": speed,
        "repeats_not_scored": {} if args.score_repeats else repeated_copies(files),
        "wall_s": time.time() - started,
    }
    write(scenario, result, out)
    return result


def markdown(scenario: Scenario, result: dict[str, Any]) -> str:
    rows, teachers, bound = result["cells"], result["teachers"], result["joint_new_f1"]
    names = [m.name for m in scenario.methods] + ["joint training upper bound"]
    naive = {r["teacher_seed"]: r.get("cost") for r in rows if r["method"] == scenario.naive}
    langs, new_langs = list(scenario.retention_langs), list(scenario.new_langs)
    parents = "; ".join(f"{k} refines {', '.join(v)}" for k, v in scenario.parents.items())
    refinement = (
        f"forgetting with a new-type entity that exactly matches a gold entity of a parent type counted as kept "
        f"({parents})"
        if parents
        else "no new type refines an old one here, so it equals plain forgetting"
    )
    teacher_list = ", ".join(
        f"{'seed ' + str(t['teacher_seed']) if t['teacher_seed'] is not None else 'given (--teacher)'}: old F1 "
        f"{t['old_f1_mean']:.1f}"
        for t in teachers
    )
    lines = [
        f"Teachers: {teacher_list}. "
        f"Each figure is the mean (min–max) over the (teacher seed, seed) cells a method ran on. "
        f"*not refinement*: {refinement}. Decoded with `--decode bio` (labelgrow eval's default). "
        f"{repeats_note(result)}",
        "",
        render.markdown_table(render.SUMMARY_HEADER, render.summary_rows(rows, names, bound)),
        "",
        "The same, decoded by per-word argmax (as transformers.pipeline does):",
        "",
        render.markdown_table(render.SUMMARY_HEADER, render.summary_rows(rows, names, bound, "argmax")),
        "",
        "Every cell:",
        "",
        render.markdown_table(render.CELL_HEADER, render.cell_rows(rows, naive)),
        "",
        "Old-label F1 per language (mean over cells):",
        "",
        render.language_table("old_f1", langs, [*teachers, *rows], ["teacher", *names]),
        "",
        "Forgetting that is not refinement, per language (mean over cells):",
        "",
        render.language_table("not_refinement", langs, rows, names),
        "",
        "New-type F1 per language (mean over cells):",
        "",
        render.language_table("new_f1", new_langs, rows, names),
    ]
    if len(scenario.new_types) > 1:
        lines += ["", "New-type F1 per type, all languages (mean over cells):", ""]
        lines.append(render.language_table("new_labels", list(scenario.new_types), rows, names))
    carried = [r for r in [*teachers, *rows] if r.get("carried_f1")]
    if carried:
        types = list(carried[0]["carried_f1"])
        lines += [
            "",
            "Old types scored on the new-type set (F1 and forgetting against the cell's teacher, mean over",
            "",
        ]
        lines[-2] += " its languages):"
        header = ["method", "cell", *(f"{t} F1" for t in types), *(f"{t} forgetting" for t in types)]
        body = [
            [
                r["method"],
                render.cell_name(r),
                *(render.fmt(mean(list(r["carried_f1"][t].values()))) for t in types),
                *(
                    render.fmt(mean(list(r["carried_forgetting"][t].values()))) if "carried_forgetting" in r else "-"
                    for t in types
                ),
            ]
            for r in carried
        ]
        lines.append(render.markdown_table(header, body))
    extra = [r for r in rows if r.get("extra")]
    if extra:
        keys = list(dict.fromkeys(k for r in extra for k in r["extra"]))
        lines += ["", "Scenario checks (every cell):", ""]
        cells = [[r["method"], render.cell_name(r), *(render.fmt(r["extra"].get(k)) for k in keys)] for r in extra]
        lines.append(render.markdown_table(["method", "cell", *keys], cells))
    speed = result.get("inference")
    if speed:
        lines += [
            "",
            f"Inference on {speed['sentences']} retention sentences, same model: labelgrow "
            f"{speed['labelgrow_words_per_s']:.0f} words/s, transformers.pipeline {speed['pipeline_words_per_s']:.0f} "
            f"words/s: **{speed['speedup']:.2f}x**.",
        ]
    return "\n".join(lines) + "\n"


def repeats_note(result: dict[str, Any]) -> str:
    """Which repeated sentences were not scored (results from before the option say nothing)."""
    if "repeats_not_scored" not in result:
        return ""
    if result["settings"].get("score_repeats"):
        return "Repeated sentences scored as often as they occur (--score-repeats)."
    dropped = result["repeats_not_scored"]
    if not dropped:
        return "No evaluation sentence repeats another."
    listed = "; ".join(f"{name}: " + ", ".join(f"{k} {v}" for k, v in langs.items()) for name, langs in dropped.items())
    return f"A sentence repeated word for word is scored once (copies not scored — {listed})."


def write(scenario: Scenario, result: dict[str, Any], out: Path, save_json: bool = True) -> None:
    if save_json:
        (out / "results.json").write_text(json.dumps(result, indent=2, default=str, ensure_ascii=False))
    (out / "results.md").write_text(markdown(scenario, result), encoding="utf-8")
    names = [m.name for m in scenario.methods] + ["joint training upper bound"]
    render.figure(result["cells"], result["teachers"], names, list(scenario.retention_langs), out / "results.png")
    print((out / "results.md").read_text())
    print(f"total {result['wall_s'] / 60:.1f} min; {out}/results.json, results.md, results.png", file=sys.stderr)


def main(
    scenario: Scenario,
    p: argparse.ArgumentParser,
    quick: dict[str, Any],
    out: str,
    after: Callable[[dict[str, Any], Path], None] | None = None,
) -> None:
    """A scenario's command: options (``p``, with the scenario's own added), then the tables again
    (--render-only) or the whole grid, written under --out (default ``out``); ``after(result, out)`` adds the
    scenario's own tables or figures, in both cases."""
    args = parse(p, quick)
    directory = out_dir(args, out)
    args.out = str(directory)
    if args.render_only:
        result = render_only(scenario, directory)
    else:
        directory.mkdir(parents=True, exist_ok=True)
        ensure_encoder(args)
        result = run(scenario, args, scenario.prepare(args, directory), directory)
    if after is not None:
        after(result, directory)


def ensure_encoder(args) -> None:
    if not Path(args.encoder).exists() and not args.teacher:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_me5s_xlmr.py"), args.encoder], check=True)


__all__ = ["build_teacher", "common_settings", "ensure_encoder", "main", "mean", "out_dir", "parse", "parser", "run"]
