from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("ddp.yaml", "MULTI_GPU"),
        ("multi-node-ddp.yaml", "MULTI_GPU"),
        ("fsdp.yaml", "FSDP"),
        ("deepspeed-zero2.yaml", "DEEPSPEED"),
    ],
)
def test_accelerate_recipes_parse(name, kind):
    from accelerate.commands.config.config_args import ClusterConfig

    config = ClusterConfig.from_yaml_file(ROOT / "recipes" / "accelerate" / name)
    assert str(config.distributed_type).endswith(kind)
    assert config.mixed_precision == "bf16"


@pytest.mark.parametrize("name", ["demo-teacher.yaml", "demo-facility.yaml"])
def test_labelgrow_recipes_hold_only_known_options(name):
    from labelgrow.configuration import ExtendArguments, field_names, read_config_file

    config = read_config_file(ROOT / "recipes" / name, field_names(ExtendArguments))
    assert {"base", "new_labels", "train", "output"} <= set(config)
    assert yaml.safe_load((ROOT / "recipes" / name).read_text())
