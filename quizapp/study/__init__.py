"""Study mode: FSRS spaced repetition over the bank, and the learner's progress."""
