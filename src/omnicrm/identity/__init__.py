"""Identity matching (OneID) for any member tables: standardise by column roles, link with
deterministic rules and a Splink Fellegi-Sunter model, cluster without over-merging, and keep
person ids stable across runs."""
