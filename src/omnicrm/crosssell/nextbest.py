"""The next best category per person: a ranked list of the categories the person has not
bought yet.

Everything is read from ``person_features`` (``category_share_<c>`` > 0 means bought), so the
production scoring model can answer from the same request the other models read. Four rankers
share one interface, ``scores(features) -> persons x categories`` (bought ones at -inf):

- ``propensity`` (ours): a logistic regression on person x category rows, fitted on the new
  categories persons bought in the ``horizon_days`` after an earlier cut-off; its inputs are
  the peers' scores plus the gap between the person's usual item price and the category's;
- ``item_item``: cosine similarity between categories on the person x category purchase
  matrix (scipy sparse), a person's score = mean similarity to what they bought;
- ``most_popular``: share of buyers who bought the category;
- ``rules``: the best confidence of a category rule whose antecedent the person has bought.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .rules import SEP

SHARE_PREFIX = "category_share_"
#: person_features columns the rankers read besides the category shares
PERSON_COLUMNS = ("frequency", "orders_per_year", "recency_days", "spend_year", "items_year",
                  "avg_order_value")
MODEL_FEATURES = ("log_popularity", "item_item", "rule_confidence", "price_gap",
                  "abs_price_gap", "log_frequency", "orders_per_year", "recency_years",
                  "n_bought", "log_browse", "browse_share")
METHODS = ("propensity", "item_item", "most_popular", "rules")
BROWSE_EVENTS = ("view", "collect", "cart")


def categories_of(features: pd.DataFrame) -> list[str]:
    return sorted(c[len(SHARE_PREFIX):] for c in features.columns if c.startswith(SHARE_PREFIX))


def bought_matrix(features: pd.DataFrame, categories: list[str]) -> np.ndarray:
    """persons x categories: True where the person bought the category before the cut-off."""
    return features[[SHARE_PREFIX + c for c in categories]].to_numpy(float) > 0


def person_log_item_price(features: pd.DataFrame) -> np.ndarray:
    """log of the person's mean paid price per item in the last year (else per order; NaN
    for persons who never bought)."""
    spend = features["spend_year"].to_numpy(float)
    items = features["items_year"].to_numpy(float)
    aov = features["avg_order_value"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.where(items > 0, spend / np.maximum(items, 1), aov)
        return np.where(price > 0, np.log(np.maximum(price, 1e-9)), np.nan)


@dataclass
class CategoryPeers:
    """What the peer rankers learn at one cut-off (from that cut-off's features and the
    baskets before it): popularity, item-item similarity, category rules, category prices."""

    categories: list[str]
    popularity: np.ndarray
    similarity: np.ndarray
    log_price: np.ndarray
    rules: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def fit(cls, features: pd.DataFrame, category_rules: pd.DataFrame,
            category_prices: pd.Series) -> CategoryPeers:
        """``category_rules``: :func:`omnicrm.crosssell.rules.rules_from_itemsets` at category
        level (antecedent, consequent, confidence); ``category_prices``: mean paid unit price
        per category."""
        categories = categories_of(features)
        bought = sp.csr_matrix(bought_matrix(features, categories).astype(np.float64))
        buyers = max(int((features["frequency"].to_numpy(float) > 0).sum()), 1)
        counts = np.asarray(bought.sum(axis=0)).ravel()
        co = (bought.T @ bought).toarray()
        norm = np.sqrt(np.diag(co))
        with np.errstate(divide="ignore", invalid="ignore"):
            sim = np.where(np.outer(norm, norm) > 0, co / np.outer(norm, norm), 0.0)
        np.fill_diagonal(sim, 0.0)
        price = category_prices.reindex(categories)
        log_price = np.log(price.fillna(price.mean()).to_numpy(float))
        rules = category_rules[["antecedent", "consequent", "confidence"]].copy()
        rules = rules[rules["consequent"].isin(categories)
                      & ~rules["consequent"].str.contains(SEP, regex=False)]
        return cls(categories, counts / buyers, sim, log_price, rules.reset_index(drop=True))

    # --- the peer rankers (persons x categories) ---
    def item_item(self, bought: np.ndarray) -> np.ndarray:
        n = np.maximum(bought.sum(axis=1, keepdims=True), 1)
        return (bought.astype(float) @ self.similarity) / n

    def most_popular(self, bought: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity, bought.shape).astype(float)

    def rule_confidence(self, bought: np.ndarray) -> np.ndarray:
        """Best confidence of a rule antecedent -> c whose antecedent the person bought."""
        out = np.zeros(bought.shape)
        index = {c: i for i, c in enumerate(self.categories)}
        for rule in self.rules.itertuples():
            ante = [index.get(a) for a in rule.antecedent.split(SEP)]
            if any(a is None for a in ante):
                continue
            has = bought[:, ante].all(axis=1)
            j = index[rule.consequent]
            out[has, j] = np.maximum(out[has, j], rule.confidence)
        return out

    def model_inputs(self, features: pd.DataFrame, browse: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """persons x categories x MODEL_FEATURES, and the bought matrix. ``browse``: persons x
        categories counts of views, collects and carts (:func:`category_browse`); without it
        the browse inputs are 0."""
        bought = bought_matrix(features, self.categories)
        n, k = bought.shape
        person_price = person_log_item_price(features)
        person_price = np.where(np.isnan(person_price), self.log_price.mean(), person_price)
        gap = person_price[:, None] - self.log_price[None, :]
        recency = features["recency_days"].to_numpy(float) / 365.25
        per_person = [np.log1p(features["frequency"].to_numpy(float)),
                      features["orders_per_year"].to_numpy(float),
                      np.where(np.isnan(recency), 10.0, recency),
                      bought.sum(axis=1).astype(float)]
        browse = np.zeros((n, k)) if browse is None else np.asarray(browse, float)
        browse_share = browse / np.maximum(browse.sum(axis=1, keepdims=True), 1.0)
        x = np.stack([np.log(np.broadcast_to(np.maximum(self.popularity, 1e-6), (n, k))),
                      self.item_item(bought), self.rule_confidence(bought), gap, np.abs(gap),
                      *[np.broadcast_to(v[:, None], (n, k)) for v in per_person],
                      np.log1p(browse), browse_share], axis=2)
        return x, bought


def _masked(scores: np.ndarray, bought: np.ndarray) -> np.ndarray:
    return np.where(bought, -np.inf, scores)


@dataclass
class NextBestCategoryModel:
    """The peers fitted at today's cut-off and the propensity classifier fitted on an earlier
    cut-off's labels (its inputs are the peers' scores, so it carries over)."""

    peers: CategoryPeers
    classifier: object
    top_k: int
    uses_browse: bool = False   # fitted with per-category browse counts (not in
                                # person_features: evaluated, not served)

    @property
    def feature_names(self) -> list[str]:
        """The person_features columns it reads."""
        return [SHARE_PREFIX + c for c in self.peers.categories] + list(PERSON_COLUMNS)

    def scores(self, features: pd.DataFrame, method: str = "propensity",
               browse: np.ndarray | None = None) -> np.ndarray:
        """persons x categories (``peers.categories``): higher = recommend first; bought
        categories are -inf. ``browse`` only for a model that ``uses_browse``."""
        if method == "propensity":
            if self.uses_browse and browse is None:
                raise ValueError("this next-best model was fitted with browse counts")
            x, bought = self.peers.model_inputs(features, browse if self.uses_browse else None)
            n, k, f = x.shape
            p = self.classifier.predict_proba(x.reshape(n * k, f))[:, 1].reshape(n, k)
            return _masked(p, bought)
        bought = bought_matrix(features, self.peers.categories)
        peer = {"item_item": self.peers.item_item, "most_popular": self.peers.most_popular,
                "rules": self.peers.rule_confidence}[method]
        # ties (no similarity, no rule) are broken by popularity
        return _masked(peer(bought) + 1e-6 * self.peers.popularity, bought)

    def recommend(self, features: pd.DataFrame, k: int | None = None,
                  method: str = "propensity") -> pd.DataFrame:
        """The top ``k`` unbought categories per person: person_id, rank, category, score
        (fewer rows for a person who bought nearly every category)."""
        k = k or self.top_k
        scores = self.scores(features, method)
        order = ranked(scores, k)
        persons = features["person_id"].astype(str).to_numpy()
        rows_p, rows_r = np.nonzero(order >= 0)
        cats = np.asarray(self.peers.categories, dtype=object)
        chosen = order[rows_p, rows_r]
        return pd.DataFrame({"person_id": persons[rows_p], "rank": rows_r + 1,
                             "category": cats[chosen],
                             "score": scores[rows_p, chosen]})

    def top(self, features: pd.DataFrame) -> pd.DataFrame:
        """person_id, next_best_category ("" when every category is bought) and
        next_best_categories (the top ``top_k`` joined by ', ')."""
        order = ranked(self.scores(features), self.top_k)
        cats = np.asarray(self.peers.categories, dtype=object)
        names = [[cats[j] for j in row if j >= 0] for row in order]
        return pd.DataFrame({"person_id": features["person_id"].astype(str).to_numpy(),
                             "next_best_category": [n[0] if n else "" for n in names],
                             "next_best_categories": [", ".join(n) for n in names]})


def ranked(scores: np.ndarray, k: int) -> np.ndarray:
    """persons x k column indices by decreasing score (stable: ties keep category order);
    -1 where fewer than k categories are finite (not bought)."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    finite = np.isfinite(np.take_along_axis(scores, order, axis=1))
    return np.where(finite, order, -1)


def training_rows(peers: CategoryPeers, features: pd.DataFrame, new_purchases: np.ndarray,
                  max_rows: int, seed: int, browse: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) over every person x unbought category at a cut-off: y = bought it in the
    window after. At most ``max_rows`` rows (a random subset)."""
    x, bought = peers.model_inputs(features, browse)
    keep = ~bought
    X, y = x[keep], new_purchases[keep].astype(int)
    if len(y) > max_rows:
        idx = np.random.default_rng(seed).choice(len(y), max_rows, replace=False)
        X, y = X[idx], y[idx]
    return X, y


def fit_classifier(X: np.ndarray, y: np.ndarray, c: float, seed: int):
    """Standardised logistic regression (sklearn)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000,
                                                               random_state=seed))
    return model.fit(X, y)


def category_browse(events: pd.DataFrame, products: pd.DataFrame,
                    person_index: pd.DataFrame, person_ids: pd.Series, categories: list[str],
                    cutoff: pd.Timestamp, days: int) -> np.ndarray:
    """persons x categories: views, collects and carts of the category's SKUs in the ``days``
    before ``cutoff``."""
    from omnicrm.features.person_features import slug

    ev = events[events["event_type"].isin(BROWSE_EVENTS)
                & (events["event_at"] < cutoff)
                & (events["event_at"] >= cutoff - pd.Timedelta(days=days))]
    ev = ev[["record_id", "sku"]].merge(person_index[["record_id", "person_id"]],
                                        on="record_id").merge(products[["sku", "category"]],
                                                              on="sku")
    row = pd.Index(person_ids.astype(str)).get_indexer(ev["person_id"].astype(str))
    col = pd.Index(categories).get_indexer(ev["category"].map(slug))
    ok = (row >= 0) & (col >= 0)
    out = np.zeros((len(person_ids), len(categories)))
    np.add.at(out, (row[ok], col[ok]), 1.0)
    return out


def new_category_matrix(purchases: pd.DataFrame, person_ids: pd.Series,
                        categories: list[str], start: pd.Timestamp, horizon_days: int
                        ) -> np.ndarray:
    """persons x categories: bought the category in [start, start + horizon). ``purchases``:
    person_id, ordered_at, value (the slugged category, as ``item_purchases`` gives it)."""
    window = purchases[(purchases["ordered_at"] >= start)
                       & (purchases["ordered_at"] < start + pd.Timedelta(days=horizon_days))]
    row = pd.Index(person_ids.astype(str)).get_indexer(window["person_id"].astype(str))
    col = pd.Index(categories).get_indexer(window["value"])
    ok = (row >= 0) & (col >= 0)
    out = np.zeros((len(person_ids), len(categories)), dtype=bool)
    out[row[ok], col[ok]] = True
    return out


def peers_at(features: pd.DataFrame, items: pd.DataFrame, cutoff: pd.Timestamp,
             min_support: float, rule_settings) -> CategoryPeers:
    """The peers learnt from the features at ``cutoff`` and the basket lines before it
    (category rules of up to ``rule_settings.max_len`` items at ``min_support``)."""
    from .rules import mine_rules

    before = items[items["ordered_at"] < cutoff]
    rules, _ = mine_rules(before, "category", min_support, rule_settings.min_confidence,
                          rule_settings.min_lift, rule_settings.max_len,
                          rule_settings.min_baskets)
    return CategoryPeers.fit(features, rules, before.groupby("category")["paid_price"].mean())


def method_scores(model: NextBestCategoryModel, features: pd.DataFrame,
                  browse_model: NextBestCategoryModel | None = None,
                  browse: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every ranker's persons x categories scores: the model, its peers, and the browse-aware
    propensity (``propensity_browse``) when given."""
    out = {m: model.scores(features, m) for m in METHODS}
    if browse_model is not None:
        out["propensity_browse"] = browse_model.scores(features, browse=browse)
    return out


def fit_next_best(features_by_cutoff: dict[pd.Timestamp, pd.DataFrame],
                  today: pd.DataFrame, items: pd.DataFrame, purchases: pd.DataFrame,
                  settings, rule_settings, seed: int,
                  browse_by_cutoff: dict[pd.Timestamp, np.ndarray] | None = None
                  ) -> tuple[NextBestCategoryModel, NextBestCategoryModel | None, pd.DataFrame]:
    """Train, test and refit the next best category model.

    ``features_by_cutoff``: person_features at cut-offs ``horizon_days`` apart, the last one
    ``horizon_days`` before the data's end. At each cut-off the classifier learns from the
    new categories bought in the window after the cut-off before it, and is judged (with its
    peers, learnt at that cut-off) on those bought in its own window; the windows are pooled.
    The production model is the classifier fitted on the last cut-off's window with the peers
    learnt from ``today`` (every basket). With ``browse_by_cutoff`` (every cut-off and
    today's: :func:`category_browse`), the same is done for a browse-aware twin.
    Returns the model, the twin (or None) and the ranking table
    (:func:`omnicrm.crosssell.evaluation.ranking_table`, k = 1, 3 and ``top_k``)."""
    from .evaluation import ranking_table

    horizon = settings.horizon_days
    cutoffs = sorted(features_by_cutoff)
    variants = [False, True] if browse_by_cutoff is not None else [False]
    peers, labels, fitted = {}, {}, {}
    for cutoff in cutoffs:
        f = features_by_cutoff[cutoff]
        peers[cutoff] = peers_at(f, items, cutoff, settings.min_rule_support, rule_settings)
        labels[cutoff] = new_category_matrix(purchases, f["person_id"],
                                             peers[cutoff].categories, cutoff, horizon)
        for browse in variants:
            X, y = training_rows(peers[cutoff], f, labels[cutoff], settings.max_training_rows,
                                 seed, browse_by_cutoff[cutoff] if browse else None)
            fitted[cutoff, browse] = fit_classifier(X, y, settings.regularisation, seed)

    def model(p: CategoryPeers, cutoff, browse: bool) -> NextBestCategoryModel:
        return NextBestCategoryModel(p, fitted[cutoff, browse], settings.top_k, browse)

    scores: dict[str, list[np.ndarray]] = {}
    bought, relevant = [], []
    for before, cutoff in zip(cutoffs[:-1], cutoffs[1:], strict=True):
        f = features_by_cutoff[cutoff]
        twin = (model(peers[cutoff], before, True), browse_by_cutoff[cutoff]) \
            if len(variants) > 1 else (None, None)
        for method, matrix in method_scores(model(peers[cutoff], before, False), f,
                                            *twin).items():
            scores.setdefault(method, []).append(matrix)
        bought.append(bought_matrix(f, peers[cutoff].categories))
        relevant.append(labels[cutoff])
    table = ranking_table({m: np.concatenate(v) for m, v in scores.items()},
                          np.concatenate(bought), np.concatenate(relevant),
                          sorted({1, 3, settings.top_k}))
    table.insert(0, "windows", len(cutoffs) - 1)
    table.insert(0, "last_cutoff_date", cutoffs[-1])
    today_peers = peers_at(today, items, pd.Timestamp(today["cutoff_date"].iloc[0]),
                           settings.min_rule_support, rule_settings)
    twin = model(today_peers, cutoffs[-1], True) if len(variants) > 1 else None
    return model(today_peers, cutoffs[-1], False), twin, table
