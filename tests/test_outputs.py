"""What a run leaves behind: the model card's front matter and tables, and the history of rounds."""

from __future__ import annotations

import json

import yaml

import labelgrow


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_model_card_has_model_index_tables_and_the_history_of_rounds(teacher_dir, data_dir, tmp_path):
    common = {"epochs": 1, "batch_size": 4, "learning_rate": 1e-3, "cpu": True}
    first = labelgrow.extend(
        base=str(teacher_dir),
        new_labels=["FACILITY"],
        train=[str(data_dir)],
        validation=[str(data_dir)],
        output=str(tmp_path / "round1"),
        **common,
    )
    card = (first.output / "README.md").read_text()
    meta = front_matter(card)
    metrics = meta["model-index"][0]["results"][0]["metrics"]
    new = next(m for m in metrics if "new labels (FACILITY)" in m["name"])
    assert new["value"] == round(first.validation_report["overall"]["new"]["f1"], 2)
    assert "| lang | label | group | precision | recall | F1 | support |" in card  # per language x label
    phone = tmp_path / "phone" / "en.txt"
    phone.parent.mkdir()
    phone.write_text("call O\n0176 B-PHONE\n555 I-PHONE\nnow O\n\nring O\n030 B-PHONE\ntoday O\n", encoding="utf-8")
    second = labelgrow.extend(
        base=str(first.output), new_labels=["PHONE"], train=[str(phone)], output=str(tmp_path / "round2"), **common
    )
    run = json.loads((second.output / "labelgrow.json").read_text())
    assert [h["new_types"] for h in run["history"]] == [["FACILITY"], ["PHONE"]]
    assert run["history"][1]["base"] == str(first.output) and len(run["history"][1]["train"][0]["sha256"]) == 64
    assert run["old_types"] == ["PER", "ORG", "LOC", "FACILITY"]
    card = (second.output / "README.md").read_text()
    assert "## Label history" in card and "| 2 |" in card and "PHONE" in card


def test_extend_hands_callbacks_to_the_trainer(teacher_dir, data_dir, tmp_path):
    from transformers import TrainerCallback

    class CountSteps(TrainerCallback):
        steps = 0

        def on_step_end(self, args, state, control, **kwargs):
            CountSteps.steps += 1

    result = labelgrow.extend(
        base=str(teacher_dir),
        new_labels=["FACILITY"],
        train=[str(data_dir)],
        output=str(tmp_path / "out"),
        epochs=1,
        batch_size=4,
        cpu=True,
        callbacks=[CountSteps()],
    )
    run = json.loads((result.output / "labelgrow.json").read_text())
    assert CountSteps.steps == run["training"]["global_steps"] > 0
    assert run["settings"]["report_to"] == "none" and run["loss"]["target"] == "old-slice"
