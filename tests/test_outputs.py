"""What a run leaves behind: the model card's front matter and tables, and the history of rounds."""

from __future__ import annotations

import json
import re

import yaml

import labelgrow
from labelgrow.data import Sentence
from labelgrow.metrics import score
from labelgrow.outputs import model_card


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_model_card_has_model_index_tables_and_the_history_of_rounds(teacher_dir, data_dir, tmp_path):
    common = {"epochs": 1, "min_steps": 0, "batch_size": 4, "learning_rate": 1e-3, "cpu": True}
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
    # each round's data hashes and final validation F1 in the card too (round 2 had no validation data)
    old, new = first.metrics["eval_old_f1"], first.metrics["eval_new_f1"]
    first_file = run["history"][0]["train"][0]
    lang = first_file["path"].split("/")[-2]  # data/<lang>/train.txt
    assert f"| FACILITY | `{lang}/train.txt` {first_file['sha256'][:12]}, " in card
    assert f" | {old:.1f} / {new:.1f} | " in card.split("| FACILITY |")[1].splitlines()[0]
    assert "| PHONE | `phone/en.txt` " in card and "| - | 2026-" in card


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
        min_steps=0,
        batch_size=4,
        cpu=True,
        callbacks=[CountSteps()],
    )
    run = json.loads((result.output / "labelgrow.json").read_text())
    assert CountSteps.steps == run["training"]["global_steps"] > 0
    assert run["settings"]["report_to"] == "none" and run["loss"]["target"] == "old-slice"


CARD_PATTERN = (
    """---
base_model: julian-schelb/roberta-ner-multilingual
language:
- en
- zh
library_name: transformers
pipeline_tag: token-classification
tags:
- token-classification
- ner
- labelgrow
model-index:
- name: facility
  results:
  - task:
      type: token-classification
      name: Named entity recognition
    dataset:
      name: en.txt, zh.txt
      type: validation
    metrics:
    - type: f1
      value: 66.67
      name: entity F1, old labels \\(PER, ORG, LOC\\)
    - type: f1
      value: 100.0
      name: entity F1, new labels \\(FACILITY\\)
---

# facility

A token-classification model grown by \\[labelgrow\\]\\(.+?\\) from `julian-schelb/roberta-ner-multilingual`:
it keeps the base model's labels \\(PER, ORG, LOC\\) and learned \\*\\*FACILITY\\*\\*.

Labels, in id order: `O B-PER I-PER B-ORG I-ORG B-LOC I-LOC B-FACILITY I-FACILITY`.

## Training

- loss: `--kd o-aware` — .+?
- frozen: .+?
- epochs 3.0, learning rate 5e-05, batch size 16, freeze layers 2, seed 42
- training data: t/en.txt

## Validation during training

\\| epoch \\| step \\| F1 \\| old \\| new \\| en \\| zh \\|
\\|---\\|---\\|---\\|---\\|---\\|---\\|---\\|
\\| 1 \\| 10 \\| 50.0 \\| 40.0 \\| 60.0 \\| 55.0 \\| 45.0 \\|
\\| 2 \\| 20 \\| 80.0 \\| 66.7 \\| 100.0 \\| 100.0 \\| 0.0 \\|

## Validation \\(entity-level F1, seqeval\\)

\\| lang \\| sentences \\| old F1 \\| new F1 \\| all F1 \\|
(\\|.+\\|\n){4}
\\| lang \\| label \\| group \\| precision \\| recall \\| F1 \\| support \\|
(\\|.+\\|\n){7}
## Label history

\\| round \\| base \\| labels added \\| training data \\(sha256\\) \\| validation F1 old / new \\| created \\|
\\|---\\|---\\|---\\|---\\|---\\|---\\|
\\| 1 \\| `julian-schelb/roberta-ner-multilingual` \\| FACILITY \\| """
    """`data/en.txt` 0123456789ab, `data/de.txt` \\| 72.4 / 35.0 \\| 2026-11-01T00:00:00Z \\|
\\| 2 \\| `runs/round1` \\| PHONE \\| - \\| - \\| 2026-11-02T00:00:00Z \\|

## Use

```python
from transformers import pipeline

ner = pipeline\\("token-classification", model="runs/facility", aggregation_strategy="simple"\\)
```

Every setting, data file hash and metric of the run is in `labelgrow.json`.
"""
)


def test_model_card_matches_its_pattern():
    """The whole card, SpanMarker-style: a pattern with the run's values where they belong."""
    gold = [
        Sentence(["Anna", "at", "Heathrow"], ["B-PER", "O", "B-FACILITY"], "en", "v/en.txt", 1),
        Sentence(["在", "上海"], ["O", "B-LOC"], "zh", "v/zh.txt", 1),
    ]
    report = score(gold, [["B-PER", "O", "B-FACILITY"], ["O", "O"]], ["PER", "ORG", "LOC"], ["FACILITY"])
    base = "julian-schelb/roberta-ner-multilingual"
    run = {
        "settings": {"epochs": 3.0, "max_steps": None, "learning_rate": 5e-5, "batch_size": 16, "freeze_layers": 2}
        | {"seed": 42},
        "languages": ["en", "zh"],
        "output": "runs/facility",
        "base": base,
        "old_types": ["PER", "ORG", "LOC"],
        "new_types": ["FACILITY"],
        "labels": ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-FACILITY", "I-FACILITY"],
        "loss": {"mode": "o-aware", "description": "cross-entropy + distillation"},
        "parameters": {"summary": "embeddings and layers 0-1 frozen"},
        "data": {"train": [{"path": "t/en.txt"}], "validation": [{"path": "v/en.txt"}, {"path": "v/zh.txt"}]},
        "training": {
            "evaluations": [
                {"epoch": 1.0, "step": 10, "f1": 50.0, "old_f1": 40.0, "new_f1": 60.0, "f1_en": 55.0, "f1_zh": 45.0},
                {"epoch": 2.0, "step": 20, "f1": 80.0, "old_f1": 200 / 3, "new_f1": 100.0, "f1_en": 100.0}
                | {"f1_zh": 0.0},
            ]
        },
        "validation_report": report,
        "history": [
            {
                "base": base,
                "new_types": ["FACILITY"],
                "created": "2026-11-01T00:00:00Z",
                "train": [{"path": "runs/data/en.txt", "sha256": "0123456789abcdef" * 4}, {"path": "data/de.txt"}],
                "metrics": {"eval_f1": 60.0, "eval_old_f1": 72.44, "eval_new_f1": 35.0},
            },
            {"base": "runs/round1", "new_types": ["PHONE"], "created": "2026-11-02T00:00:00Z"},
        ],
    }
    card = model_card(run)
    assert re.fullmatch(CARD_PATTERN, card), card
    metrics = front_matter(card)["model-index"][0]["results"][0]["metrics"]
    assert [m["value"] for m in metrics] == [66.67, 100.0]
