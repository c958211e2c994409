"""The peers our code is compared with: the straightforward approach people write first."""
