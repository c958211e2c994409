"""Cross-sell: association rules on baskets (FP-growth, mlxtend), bundle suggestions with their
margin, and the next best category per person (a person x category propensity with item-item
similarity, popularity and rules as peers), judged on the purchases that followed."""
