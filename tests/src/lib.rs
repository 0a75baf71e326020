//! End-to-end tests of the shelfd binary live in `tests/tests/`.
