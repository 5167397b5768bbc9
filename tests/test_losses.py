"""Each loss mode on small tensors whose values are computed by hand (plain math, not the code under test)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from labelgrow.losses import LossConfig, compute_loss, describe_loss

# 3 labels: O (old, id 0), B-PER (old, id 1), B-NEW (new, id 2). num_old = 2.
LOGITS = torch.tensor([[[2.0, 0.5, 0.0], [0.0, 1.0, 3.0], [1.0, 1.0, 1.0], [9.0, -9.0, 9.0]]])
LABELS = torch.tensor([[0, 2, 1, -100]])  # the last position is padding / a continuation sub-word
TEACHER = torch.tensor([[[1.0, 3.0], [2.0, 0.0], [0.0, 0.0], [-5.0, 5.0]]])


def softmax(xs):
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    return [v / sum(e) for v in e]


def ce(logits, gold):
    return -math.log(softmax(logits)[gold])


def kl(teacher, student, t):
    p = softmax([x / t for x in teacher])
    q = softmax([x / t for x in student])
    return sum(pi * (math.log(pi) - math.log(qi)) for pi, qi in zip(p, q, strict=True))


ROWS = LOGITS[0].tolist()
TROWS = TEACHER[0].tolist()


def config(mode, **kw):
    kw.setdefault("pseudo_label_threshold", 0.0)
    return LossConfig(mode=mode, alpha=0.5, temperature=2.0, num_old=2, outside_id=0, **kw)


def test_none_is_plain_ce_over_scored_words():
    out = compute_loss(LOGITS, LABELS, None, config("none"))
    expected = (ce(ROWS[0], 0) + ce(ROWS[1], 2) + ce(ROWS[2], 1)) / 3
    assert out.loss.item() == pytest.approx(expected, rel=1e-6)


def test_seed_is_ce_plus_kd_on_the_old_slice_per_word():
    out = compute_loss(LOGITS, LABELS, TEACHER, config("seed", kd_target="old-slice"))
    ce_mean = (ce(ROWS[0], 0) + ce(ROWS[1], 2) + ce(ROWS[2], 1)) / 3
    kd_mean = sum(kl(TROWS[i], ROWS[i][:2], 2.0) for i in range(3)) / 3
    assert out.ce.item() == pytest.approx(ce_mean, rel=1e-6)
    assert out.kd.item() == pytest.approx(kd_mean, rel=1e-6)
    assert out.loss.item() == pytest.approx(0.5 * ce_mean + 0.5 * 4.0 * kd_mean, rel=1e-6)


def test_o_aware_unbiased_ce_on_gold_o_and_kd_only_there():
    out = compute_loss(LOGITS, LABELS, TEACHER, config("o-aware", kd_target="old-slice"))
    p0 = softmax(ROWS[0])
    unbiased = -math.log(p0[0] + p0[1])  # gold O: "O or any old label"
    ce_mean = (unbiased + ce(ROWS[1], 2) + ce(ROWS[2], 1)) / 3
    kd_mean = kl(TROWS[0], ROWS[0][:2], 2.0) / 3  # only the gold-O word is distilled; per scored word
    assert out.ce.item() == pytest.approx(ce_mean, rel=1e-6)
    assert out.kd.item() == pytest.approx(kd_mean, rel=1e-6)
    assert out.loss.item() == pytest.approx(0.5 * ce_mean + 2.0 * kd_mean, rel=1e-6)
    assert out.total.item() == pytest.approx(3 * out.loss.item(), rel=1e-6) and out.words == 3
    assert out.pseudo_labels == 0


def test_o_aware_pseudo_labels_follow_a_confident_teacher():
    # teacher on word 0: p(B-PER) = e^3 / (e^1 + e^3) = 0.88
    out = compute_loss(LOGITS, LABELS, TEACHER, config("o-aware", pseudo_label_threshold=0.8))
    assert out.pseudo_labels == 1
    ce_mean = (ce(ROWS[0], 1) + ce(ROWS[1], 2) + ce(ROWS[2], 1)) / 3
    assert out.ce.item() == pytest.approx(ce_mean, rel=1e-6)
    high = compute_loss(LOGITS, LABELS, TEACHER, config("o-aware", pseudo_label_threshold=0.9))
    assert high.pseudo_labels == 0


@pytest.mark.parametrize("mode", ["none", "seed", "o-aware"])
def test_ignored_positions_never_enter_the_loss(mode):
    base = compute_loss(LOGITS, LABELS, TEACHER, config(mode)).loss
    noisy_logits, noisy_teacher = LOGITS.clone(), TEACHER.clone()
    noisy_logits[0, 3] = torch.tensor([100.0, -50.0, 7.0])
    noisy_teacher[0, 3] = torch.tensor([-30.0, 80.0])
    assert compute_loss(noisy_logits, LABELS, noisy_teacher, config(mode)).loss.item() == pytest.approx(base.item())


@pytest.mark.parametrize("mode", ["none", "seed", "o-aware"])
def test_loss_is_a_per_word_mean_not_divided_by_batch_size(mode):
    one = compute_loss(LOGITS, LABELS, TEACHER, config(mode)).loss
    padded_batch = torch.cat([LOGITS, torch.zeros(3, 4, 3)])  # three all-padding rows
    labels = torch.cat([LABELS, torch.full((3, 4), -100)])
    teacher = torch.cat([TEACHER, torch.zeros(3, 4, 2)])
    assert compute_loss(padded_batch, labels, teacher, config(mode)).loss.item() == pytest.approx(one.item())
    doubled = compute_loss(LOGITS.repeat(2, 1, 1), LABELS.repeat(2, 1), TEACHER.repeat(2, 1, 1), config(mode))
    assert doubled.loss.item() == pytest.approx(one.item())


def test_gradients_flow_and_a_batch_without_gold_o_has_zero_kd():
    logits = LOGITS.clone().requires_grad_(True)
    labels = torch.tensor([[2, 2, 1, -100]])
    out = compute_loss(logits, labels, TEACHER, config("o-aware"))
    out.loss.backward()
    assert out.kd.item() == 0.0 and logits.grad is not None and logits.grad[0, 3].abs().sum() == 0


def test_distillation_matches_torch_kl_div():
    from labelgrow.losses import distillation

    s, t = torch.randn(5, 4), torch.randn(5, 4)
    ref = F.kl_div(F.log_softmax(s / 2, -1), F.log_softmax(t / 2, -1), log_target=True, reduction="none").sum(-1)
    assert torch.allclose(distillation(s, t, 2.0), ref, atol=1e-6)


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"mode": "bad"}, "--kd must be one of"), ({"alpha": 2.0}, "--kd-alpha"), ({"temperature": 0}, "temperature")],
)
def test_config_validation(kw, message):
    with pytest.raises(ValueError, match=message):
        LossConfig(**kw)


def test_the_loss_description_says_what_is_used():

    assert "pseudo-labels" in describe_loss(config("o-aware", pseudo_label_threshold=0.5))
    assert ">= 0.5" in describe_loss(config("o-aware", pseudo_label_threshold=0.5))
    assert "pseudo" not in describe_loss(config("o-aware"))
    assert "T=2.0, alpha=0.5" in describe_loss(config("seed"))
    assert describe_loss(config("none")).startswith("CE on all words, no teacher")


def test_collated_cached_teacher_logits_land_on_the_scored_positions():
    from labelgrow.features import collate

    features = [
        {"input_ids": [0, 5, 6, 2], "labels": [-100, 1, -100, -100], "teacher_logits": torch.tensor([[1.0, 2.0]])},
        {"input_ids": [0, 7, 2], "labels": [-100, 0, -100], "teacher_logits": torch.tensor([[3.0, 4.0]])},
    ]
    batch = collate(features, pad_id=1)
    assert batch["teacher_logits"].dtype == torch.float16 and batch["teacher_logits"].shape == (2, 4, 2)
    assert batch["teacher_logits"][0, 1].tolist() == [1.0, 2.0] and batch["teacher_logits"][1, 1].tolist() == [3, 4]
    assert batch["teacher_logits"][0, 2].abs().sum() == 0


def test_unbiased_kd_counts_the_new_labels_probability_as_outside():
    # one gold-O word; student probabilities O 1/5, PER 1/5, NEW 3/5; teacher O 1/5, PER 4/5. alpha 1 (KD only), T 1.
    logits = torch.tensor([[[0.0, 0.0, math.log(3.0)]]])
    teacher = torch.tensor([[[0.0, math.log(4.0)]]])
    labels = torch.tensor([[0]])
    unbiased = LossConfig("o-aware", 1.0, 1.0, 0.0, num_old=2, outside_id=0, kd_target="unbiased")
    old_slice = LossConfig("o-aware", 1.0, 1.0, 0.0, num_old=2, outside_id=0, kd_target="old-slice")
    # unbiased: the student is (O or NEW) 4/5, PER 1/5: KL = 1/5 ln(1/4) + 4/5 ln 4 = 3/5 ln 4
    assert compute_loss(logits, labels, teacher, unbiased).loss.item() == pytest.approx(0.6 * math.log(4.0), rel=1e-5)
    # old slice: the student's old labels renormalised are 1/2, 1/2, whatever NEW takes
    expected = 0.2 * math.log(0.2 / 0.5) + 0.8 * math.log(0.8 / 0.5)
    assert compute_loss(logits, labels, teacher, old_slice).loss.item() == pytest.approx(expected, rel=1e-5)


def test_unbiased_kd_at_a_temperature_folds_the_softened_probabilities():
    t = 2.0
    logits = torch.tensor([[[1.0, 2.0, 0.5]]])
    teacher = torch.tensor([[[0.3, 1.7]]])
    config = LossConfig("o-aware", 1.0, t, 0.0, num_old=2, outside_id=0, kd_target="unbiased")
    q = softmax([x / t for x in [1.0, 2.0, 0.5]])
    p = softmax([x / t for x in [0.3, 1.7]])
    folded = [q[0] + q[2], q[1]]
    expected = t**2 * sum(pi * math.log(pi / qi) for pi, qi in zip(p, folded, strict=True))
    assert compute_loss(logits, torch.tensor([[0]]), teacher, config).loss.item() == pytest.approx(expected, rel=1e-5)


def test_kd_target_is_validated():
    with pytest.raises(ValueError, match="--kd-target must be one of old-slice, unbiased"):
        LossConfig(kd_target="folded")


# A head over 4 features: O, B-ORG (old) and B-FAC (new). A facility shares feature 0 with organisations, so a
# new row trained on facilities alone also fires on an organisation it never saw ("takes it over").
FEATURES = {
    "fac": [2.0, 2.0, 0.0, 0.0],
    "org": [2.0, 0.0, 1.5, 0.0],
    "o": [0.0, 0.0, 0.0, 1.0],
    "stadium": [2.0, 2.0, 0.5, 0.0],  # a facility the teacher calls ORG (WikiANN's convention)
}
UNSEEN_ORG = [2.0, 0.5, 1.2, 0.0]


def grow_head(
    words: list[str], gold: list[int], config: LossConfig, rehearsal: list[str] = (), query=UNSEEN_ORG
) -> torch.Tensor:
    """Train a grown head (old rows copied from the teacher, the new row a copy of O's, bias -4) on annotated
    ``words`` and, as a second input, ``rehearsal`` words (all O, flagged rehearsal); return its probabilities at
    ``query`` (by default an organisation it never saw)."""
    teacher = torch.nn.Linear(4, 2)
    student = torch.nn.Linear(4, 3)
    with torch.no_grad():
        teacher.weight.copy_(torch.tensor([[0.0, 0.0, 0.0, 2.0], [1.0, 0.0, 3.0, 0.0]]))
        teacher.bias.copy_(torch.tensor([1.0, -1.0]))
        student.weight[:2], student.bias[:2] = teacher.weight, teacher.bias
        student.weight[2], student.bias[2] = teacher.weight[0], teacher.bias[0] - 4.0
    optimizer = torch.optim.Adam(student.parameters(), lr=0.05)
    rows, labels = [[FEATURES[w] for w in words]], [list(gold)]
    if rehearsal:
        width = max(len(words), len(rehearsal))
        rows = [r + [[0.0] * 4] * (width - len(r)) for r in [rows[0], [FEATURES[w] for w in rehearsal]]]
        labels = [g + [-100] * (width - len(g)) for g in [labels[0], [0] * len(rehearsal)]]
    x, y = torch.tensor(rows), torch.tensor(labels)
    flags = torch.tensor([False, True]) if rehearsal else None
    for _ in range(300):
        loss = compute_loss(student(x), y, teacher(x).detach(), config, flags).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return student(torch.tensor(query)).softmax(-1)


@pytest.mark.parametrize("kd_target", ["unbiased", "old-slice"])
def test_a_new_type_takes_over_an_unseen_old_entity_only_without_evidence_against_it(kd_target):
    config = LossConfig("o-aware", 0.5, 2.0, 0.0, num_old=2, outside_id=0, kd_target=kd_target)
    # facilities and plain words only: nothing says an organisation is not a facility, and FAC takes it over
    assert grow_head(["fac", "o"], [2, 0], config).argmax().item() == 2
    # an organisation in the text, tagged O (the background shift, or --rehearsal text): the teacher's
    # distillation keeps it ORG, the unbiased CE keeps FAC off it, and the unseen organisation stays ORG
    kept = grow_head(["fac", "o", "org"], [2, 0, 0], config)
    assert kept.argmax().item() == 1 and kept[1].item() > 0.9
    # naive fine-tuning on the same words learns the O tag as truth: the organisation is lost to O
    naive = LossConfig("none", num_old=2, outside_id=0)
    assert grow_head(["fac", "o", "org"], [2, 0, 0], naive).argmax().item() == 0


# --rehearsal-parents: 5 labels, O B-ORG I-ORG (old) and B-FAC I-FAC (new); FAC refines ORG: (1, 3) and (2, 4)
REFINES = ((1, 3), (2, 4))
R_LOGITS = torch.tensor(
    [[[0.5, 2.0, 0.0, 1.5, -1.0], [1.0, 0.0, 0.5, -0.5, 2.0]], [[0.5, 2.0, 0.0, 1.5, -1.0], [0.0, 0.0, 0.0, 0.0, 0.0]]]
)
R_LABELS = torch.tensor([[0, 0], [0, -100]])  # every scored word gold O
R_TEACHER = torch.tensor([[[0.0, 3.0, 0.0], [0.0, 0.0, 4.0]], [[0.0, 3.0, 0.0], [0.0, 0.0, 0.0]]])  # B-ORG, I-ORG


def r_config(refinements=REFINES):
    return LossConfig("o-aware", alpha=0.0, num_old=3, outside_id=0, refinements=refinements)


def allowed_ce(logits, allowed):
    p = softmax(logits)
    return -math.log(sum(p[i] for i in allowed))


def test_rehearsal_parents_allow_the_child_where_the_teacher_gives_the_parent_on_rehearsal_words_only():
    rows = R_LOGITS.tolist()
    out = compute_loss(R_LOGITS, R_LABELS, R_TEACHER, r_config(), torch.tensor([True, False]))
    expected = [
        allowed_ce(rows[0][0], [0, 1, 2, 3]),  # rehearsal, teacher B-ORG: B-FAC is a refinement; I-FAC is not
        allowed_ce(rows[0][1], [0, 1, 2, 4]),  # rehearsal, teacher I-ORG: I-FAC allowed
        allowed_ce(rows[1][0], [0, 1, 2]),  # annotated text, teacher B-ORG: gold O there still means "not new"
    ]
    assert out.loss.item() == pytest.approx(sum(expected) / 3, rel=1e-6)
    strict = [allowed_ce(rows[0][0], [0, 1, 2]), allowed_ce(rows[0][1], [0, 1, 2]), expected[2]]
    for flags, refinements in [(None, REFINES), (torch.tensor([True, False]), ())]:  # no flags, or no parents
        plain = compute_loss(R_LOGITS, R_LABELS, R_TEACHER, r_config(refinements), flags)
        assert plain.loss.item() == pytest.approx(sum(strict) / 3, rel=1e-6)


def test_pseudo_labels_on_rehearsal_text_only_allow_the_child_of_the_teachers_label():
    """--pseudo-label-scope rehearsal: on rehearsal words the teacher's confident label is the target (B-ORG
    p = e^3 / (e^3 + 2) = 0.91, I-ORG 0.96), its child type allowed with --rehearsal-parents; annotated gold O keeps
    the strict "not new"."""
    rows, flags = R_LOGITS.tolist(), torch.tensor([True, False])
    scoped = {"pseudo_label_threshold": 0.5, "pseudo_label_scope": "rehearsal"}
    out = compute_loss(R_LOGITS, R_LABELS, R_TEACHER, LossConfig(**vars(r_config()) | scoped), flags)
    expected = [allowed_ce(rows[0][0], [1, 3]), allowed_ce(rows[0][1], [2, 4]), allowed_ce(rows[1][0], [0, 1, 2])]
    assert out.pseudo_labels == 2 and out.loss.item() == pytest.approx(sum(expected) / 3, rel=1e-6)
    # no parents declared: CE towards the teacher's label itself
    strict = compute_loss(R_LOGITS, R_LABELS, R_TEACHER, LossConfig(**vars(r_config(())) | scoped), flags)
    plain = [ce(rows[0][0], 1), ce(rows[0][1], 2), expected[2]]
    assert strict.loss.item() == pytest.approx(sum(plain) / 3, rel=1e-6)
    # scope "all": the annotated word takes the teacher's label too, strictly (its O was looked at by an annotator)
    everywhere = LossConfig(**vars(r_config()) | scoped | {"pseudo_label_scope": "all"})
    out = compute_loss(R_LOGITS, R_LABELS, R_TEACHER, everywhere, flags)
    assert out.pseudo_labels == 3
    assert out.loss.item() == pytest.approx((expected[0] + expected[1] + ce(rows[1][0], 1)) / 3, rel=1e-6)
    assert "pseudo-labels of --rehearsal text" in describe_loss(LossConfig(**vars(r_config()) | scoped))
    with pytest.raises(ValueError, match="--pseudo-label-scope must be one of all, rehearsal"):
        LossConfig(pseudo_label_scope="gold")


def test_refinements_must_map_old_labels_to_new_ones():
    with pytest.raises(ValueError, match="refinements must map an old label id to a new one"):
        r_config(((3, 1),))


def test_collate_carries_the_rehearsal_flag_of_each_input():
    from labelgrow.features import collate

    features = [{"input_ids": [0, 5, 2], "labels": [-100, 0, -100], "rehearsal": True}, {"input_ids": [0, 2]}]
    assert collate(features, pad_id=1)["rehearsal"].tolist() == [True, False]
    assert "rehearsal" not in collate([{"input_ids": [0, 2]}], pad_id=1)


def test_rehearsal_parents_keep_facilities_and_give_up_rehearsal_protection_of_the_parent():
    """Rehearsal text holds a stadium the teacher calls ORG, and an organisation. Strict rehearsal trains both "not
    FAC": a facility like the stadium is no longer found, and an organisation never seen stays ORG. With FAC refining
    ORG, the stadium may become FAC and the facility is found -- but so may the organisation: the price is that
    rehearsal no longer holds FAC off the parent's entities (only the annotated data's gold O does)."""
    strict = LossConfig("o-aware", 0.5, 2.0, 0.0, num_old=2, outside_id=0)
    relaxed = LossConfig("o-aware", 0.5, 2.0, 0.0, num_old=2, outside_id=0, refinements=((1, 2),))
    words, gold, rehearsal = ["fac", "o"], [2, 0], ["stadium", "org", "o"]
    facility = [2.0, 2.0, 0.3, 0.0]  # a facility between the trained one and the stadium
    assert grow_head(words, gold, strict, rehearsal, facility).argmax().item() != 2
    assert grow_head(words, gold, relaxed, rehearsal, facility).argmax().item() == 2
    held, given_up = grow_head(words, gold, strict, rehearsal), grow_head(words, gold, relaxed, rehearsal)
    assert held.argmax().item() == 1 and held[1].item() > 0.9
    assert given_up[2].item() > held[2].item() + 0.3


@pytest.mark.parametrize("mode", ["o-aware", "seed"])
def test_hidden_kd_in_extend_leashes_only_the_words_kd_covers(mode):
    """extend --hidden-kd: the hidden term counts where KD does (gold O with o-aware, every word with seed), so the
    new type's own words may move; compress's hidden term (hidden_where_kd off) counts on every scored word."""
    # per position 1 - cos: orthogonal (1), opposite (2), the same (0), padding (not scored)
    student_h = [torch.tensor([[[1.0, 0.0], [1.0, 1.0], [0.0, 3.0], [7.0, 7.0]]])]
    teacher_h = [torch.tensor([[[0.0, 2.0], [-1.0, -1.0], [0.0, 1.0], [-7.0, 7.0]]])]
    plain = compute_loss(LOGITS, LABELS, TEACHER, config(mode))
    leash = compute_loss(
        LOGITS, LABELS, TEACHER, config(mode, hidden_weight=0.3, hidden_where_kd=True), hidden=(student_h, teacher_h)
    )
    everywhere = compute_loss(LOGITS, LABELS, TEACHER, config(mode, hidden_weight=0.3), hidden=(student_h, teacher_h))
    covered = [1.0] if mode == "o-aware" else [1.0, 2.0, 0.0]  # LABELS: O, B-NEW, B-PER
    assert leash.hidden.item() == pytest.approx(sum(covered) / 3, rel=1e-6)
    assert leash.loss.item() == pytest.approx(plain.loss.item() + 0.3 * sum(covered) / 3, rel=1e-6)
    assert everywhere.loss.item() == pytest.approx(plain.loss.item() + 0.3 * 3.0 / 3, rel=1e-6)
    assert "--hidden-kd" in describe_loss(config(mode, hidden_weight=0.3, hidden_where_kd=True))
    assert "--hidden-kd" not in describe_loss(config(mode))
