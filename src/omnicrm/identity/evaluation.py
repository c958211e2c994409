"""How good a record linkage is, judged against the synthetic world's hidden truth: pairwise and
B-cubed precision/recall/F1, overall and on the Chinese hard cases (homophones, traditional
characters, pinyin names, masked and family-shared mobiles, very common names ...).

Everything is computed from contingency counts (how many records share a predicted cluster, a
true person, both), never by enumerating pairs, so a million records take seconds. A pair is an
unordered pair of distinct records; a cluster of n records holds n*(n-1)/2 of them.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

# name_noise values of truth_records that make a name pinyin or a Western name
log = logging.getLogger(__name__)
PINYIN_NAME_NOISE = ("pinyin", "english")

HARD_CASES: dict[str, str] = {
    "overall": "every record",
    "homophone": "name written with same-sound different characters (张伟 / 章伟)",
    "traditional": "name in traditional characters (張偉 / 张伟)",
    "pinyin_name": "name in pinyin (any order, joined, upper case) or an English name",
    "masked_mobile": "mobile masked like 138****5678",
    "family_shared_mobile": "records of households where someone gave a family member's mobile; "
                            "the risk is merging different household members",
    "common_name": "persons with one of the very common full names; the risk is merging "
                   "different people of the same name",
    "duplicate_registration": "a second record of the same person in the same channel",
    "transposed_id": "resident ID typed with two digits swapped",
}


# --- contingency counting -------------------------------------------------------------------

def _pairs(counts: np.ndarray) -> int:
    """Unordered pairs within groups of the given sizes."""
    c = np.asarray(counts, dtype=np.int64)
    return int((c * (c - 1) // 2).sum())


def _group_sizes(codes: np.ndarray) -> np.ndarray:
    """Sizes of the groups of integer codes (0..k-1), empty groups dropped."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    counts = np.bincount(codes)
    return counts[counts > 0]


def _joint_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One code per (a, b) combination, 0..k-1 (the cells of the contingency table)."""
    if len(a) == 0:
        return np.zeros(0, dtype=np.int64)
    joint = a.astype(np.int64) * (int(b.max()) + 1) + b.astype(np.int64)
    return np.unique(joint, return_inverse=True)[1].ravel()


def _codes(labels: pd.Series, what: str) -> np.ndarray:
    if labels.isna().any():
        raise ValueError(f"{what} has {int(labels.isna().sum())} missing cluster labels; every "
                         "record needs one (a singleton gets a label of its own)")
    return pd.factorize(labels.to_numpy(), sort=False)[0].astype(np.int64)


def _aligned(pred: pd.Series, truth: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer cluster codes of pred and truth in the same record order."""
    for what, s in (("pred", pred), ("truth", truth)):
        if not s.index.is_unique:
            dup = s.index[s.index.duplicated()][:5].tolist()
            raise ValueError(f"{what} is indexed by record key, which must be unique; "
                             f"duplicated keys: {dup}")
    if len(pred) != len(truth) or not pred.index.equals(truth.index):
        missing = truth.index.difference(pred.index)
        extra = pred.index.difference(truth.index)
        if len(missing) or len(extra):
            raise ValueError(
                "pred and truth must label the same records: "
                f"{len(missing)} records only in truth (e.g. {missing[:5].tolist()}), "
                f"{len(extra)} only in pred (e.g. {extra[:5].tolist()})")
        pred = pred.reindex(truth.index)
    return _codes(pred, "pred"), _codes(truth, "truth")


def _prf(tp: int, predicted: int, true: int) -> tuple[float, float, float]:
    """Precision, recall, F1; precision is 1 without predicted pairs, recall 1 without true."""
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# --- public scores --------------------------------------------------------------------------

def pairwise_scores(pred: pd.Series, truth: pd.Series) -> dict:
    """Pairwise precision, recall and F1 of a clustering.

    ``pred`` and ``truth`` are cluster labels indexed by record key (the same keys). A predicted
    pair is two records in one predicted cluster; it is a true positive when both belong to the
    same true cluster. Precision is 1 when nothing is linked; recall is 1 when every true
    cluster is a singleton.
    """
    p, t = _aligned(pred, truth)
    tp = _pairs(_group_sizes(_joint_codes(p, t)))
    predicted, true = _pairs(_group_sizes(p)), _pairs(_group_sizes(t))
    precision, recall, f1 = _prf(tp, predicted, true)
    return {"precision": precision, "recall": recall, "f1": f1, "tp_pairs": tp,
            "predicted_pairs": predicted, "true_pairs": true}


def bcubed_scores(pred: pd.Series, truth: pd.Series) -> dict:
    """B-cubed precision, recall and F1, averaged over records.

    For a record r with predicted cluster C and true cluster T: precision(r) = |C ∩ T| / |C|,
    recall(r) = |C ∩ T| / |T|. Unlike pairwise scores, a big wrong cluster does not dominate.
    """
    p, t = _aligned(pred, truth)
    if len(p) == 0:
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    cell = _joint_codes(p, t)
    n_cell = np.bincount(cell)[cell]
    precision = float(np.mean(n_cell / np.bincount(p)[p]))
    recall = float(np.mean(n_cell / np.bincount(t)[t]))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def hard_case_masks(truth_records: pd.DataFrame, truth_persons: pd.DataFrame
                    ) -> dict[str, np.ndarray]:
    """For each hard case, which records of ``truth_records`` (in its row order) belong to it."""
    tr = truth_records
    name_noise = tr["name_noise"].astype(str)
    person = tr[["person_id"]].merge(
        truth_persons[["person_id", "household_id", "common_name"]], on="person_id",
        how="left", validate="many_to_one")
    shared = tr["mobile_noise"].to_numpy() == "family_shared"
    shared_households = set(person.loc[shared, "household_id"])
    return {
        "overall": np.ones(len(tr), dtype=bool),
        "homophone": (name_noise == "homophone").to_numpy(),
        "traditional": (name_noise == "traditional").to_numpy(),
        "pinyin_name": (name_noise.str.startswith(PINYIN_NAME_NOISE[0])
                        | (name_noise == PINYIN_NAME_NOISE[1])).to_numpy(),
        "masked_mobile": (tr["mobile_noise"] == "masked").to_numpy(),
        "family_shared_mobile": person["household_id"].isin(shared_households).to_numpy(),
        "common_name": person["common_name"].fillna(False).astype(bool).to_numpy(),
        "duplicate_registration": tr["duplicate_registration"].fillna(False).astype(bool)
                                                                  .to_numpy(),
        "transposed_id": (tr["id_noise"] == "transposed").to_numpy(),
    }


def hard_case_scores(pred: pd.Series, truth_records: pd.DataFrame,
                     truth_persons: pd.DataFrame) -> pd.DataFrame:
    """Pairwise scores on each hard case of the synthetic world, one row per case.

    ``pred``: predicted cluster label (e.g. person_id of the OneID index) indexed by record_id,
    for every record of ``truth_records`` (record ids are unique across channels).

    A case is a set of records (see :data:`HARD_CASES`). Its recall counts the true pairs with at
    least one record in the case, its precision the predicted pairs with at least one record in
    the case (pairs(all) - pairs(among records outside the case)). Two false-merge counts, over
    the same pairs: ``household_false_merges`` (linked records of different persons of one
    household) and ``same_name_false_merges`` (linked records of different persons with the
    same true name). ``bcubed_*``: B-cubed scores averaged over the records of the case.
    Precision, recall and F1 are NaN for a case with no records.
    """
    tr = truth_records.reset_index(drop=True)
    if not tr["record_id"].is_unique:
        raise ValueError("truth_records.record_id must be unique across channels")
    truth = pd.Series(tr["person_id"].to_numpy(), index=pd.Index(tr["record_id"]))
    p, t = _aligned(pred, truth)
    persons = truth_persons.set_index("person_id")
    household = pd.factorize(persons["household_id"].reindex(tr["person_id"]).to_numpy())[0]
    name = pd.factorize(persons["name"].reindex(tr["person_id"]).to_numpy())[0]
    if (household < 0).any():
        raise ValueError("truth_records has persons that truth_persons lacks")

    # every pair count a row needs, per record subset
    cells = {"tp": _joint_codes(p, t), "household": _joint_codes(p, household),
             "name": _joint_codes(p, name)}

    def counts(keep: np.ndarray) -> dict[str, int]:
        tp = _pairs(_group_sizes(cells["tp"][keep]))
        return {"tp": tp, "predicted": _pairs(_group_sizes(p[keep])),
                "true": _pairs(_group_sizes(t[keep])),
                # person implies household and name, so pairs linked within a household
                # (or a name) minus pairs linked within a person are different persons
                "household_false": _pairs(_group_sizes(cells["household"][keep])) - tp,
                "name_false": _pairs(_group_sizes(cells["name"][keep])) - tp}

    everything = counts(np.ones(len(p), dtype=bool))
    # B-cubed of each record, averaged over the records of a case
    n_cell = np.bincount(cells["tp"])[cells["tp"]]
    record_precision = n_cell / np.bincount(p)[p]
    record_recall = n_cell / np.bincount(t)[t]
    rows = []
    for case, mask in hard_case_masks(tr, truth_persons).items():
        outside = counts(~mask)
        c = {k: everything[k] - outside[k] for k in everything}
        precision, recall, f1 = _prf(c["tp"], c["predicted"], c["true"])
        if mask.any():
            b_precision = float(record_precision[mask].mean())
            b_recall = float(record_recall[mask].mean())
            b_f1 = 2 * b_precision * b_recall / (b_precision + b_recall)
        else:
            precision = recall = f1 = b_precision = b_recall = b_f1 = float("nan")
        rows.append({"case": case, "records": int(mask.sum()), "true_pairs": c["true"],
                     "recall": recall, "predicted_pairs": c["predicted"],
                     "precision": precision, "f1": f1, "tp_pairs": c["tp"],
                     "household_false_merges": c["household_false"],
                     "same_name_false_merges": c["name_false"],
                     "bcubed_precision": b_precision, "bcubed_recall": b_recall,
                     "bcubed_f1": b_f1})
    return pd.DataFrame(rows).set_index("case")


# --- what any linker could reach ------------------------------------------------------------

#: Fields of the standardised member table that can tie two records of one person together:
#: a shared value is evidence, however weak (a name sound that thousands share still counts).
EVIDENCE_FIELDS = ("mobile_digits", "id_raw", "email", "unionid", "name_key", "birth_date",
                   "street")


def evidence_clusters(standardised: pd.DataFrame, truth_records: pd.DataFrame) -> pd.Series:
    """The best clustering any linker could make from the records' contents: each true person's
    records split into the groups that a chain of shared evidence (:data:`EVIDENCE_FIELDS`:
    the mobile's visible digits, ID number as written, email, unionid, name sound, birth date,
    street address) connects. A record sharing nothing with the person's other records (a
    WeChat follower known only by a nickname and a city) stays alone.

    Scored with :func:`hard_case_scores`, its recall per case is the ceiling of every linker's
    recall on this world (at precision 1). Returns a label per record_id."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    std = standardised.set_index("record_id")
    person = truth_records.set_index("record_id")["person_id"]
    std = std.loc[person.index]
    fields = pd.DataFrame({
        "mobile_digits": std["mobile_prefix"] + "*" + std["mobile_suffix"],
        "id_raw": std["id_raw"], "email": std["email"], "unionid": std["unionid"],
        "name_key": std["name_key"],
        "birth_date": pd.to_datetime(std["birth_date"]).dt.strftime("%Y-%m-%d"),
        "street": std["district"] + "|" + std["address_detail"],
    }, index=std.index)
    n = len(fields)
    position = np.arange(n)
    rows, cols = [position], [position]
    for field in EVIDENCE_FIELDS:
        value = fields[field]
        known = value.notna().to_numpy()
        group = pd.Series(position[known]).groupby(
            [person.to_numpy()[known], value.to_numpy()[known]], sort=False)
        first = group.transform("first").to_numpy()
        rows.append(first)
        cols.append(position[known])
    graph = coo_matrix((np.ones(sum(len(r) for r in rows)),
                        (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    return pd.Series(component, index=fields.index, name="evidence_cluster")


def linkage_scores(person_index: pd.DataFrame, standardised: pd.DataFrame,
                   truth_records: pd.DataFrame, truth_persons: pd.DataFrame) -> pd.DataFrame:
    """Pairwise and B-cubed scores against the synthetic truth, overall and per hard case,
    next to the ceiling no linker can pass on this world (``recall_ceiling``, ``f1_ceiling``:
    true pairs connected by a chain of shared evidence, linked at precision 1)."""
    pred = person_index.set_index("record_id")["person_id"]
    scores = hard_case_scores(pred, truth_records, truth_persons)
    ceiling = hard_case_scores(evidence_clusters(standardised, truth_records),
                               truth_records, truth_persons)
    scores["recall_ceiling"] = ceiling["recall"]
    scores["f1_ceiling"] = ceiling["f1"]
    overall = scores.loc["overall"]
    log.info("OneID vs truth: pairwise P %.4f R %.4f F1 %.4f (ceiling: R %.4f, F1 %.4f)",
             overall["precision"], overall["recall"], overall["f1"],
             overall["recall_ceiling"], overall["f1_ceiling"])
    return scores
