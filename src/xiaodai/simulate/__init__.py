"""Simulated applicants, behaviour and books (seeded, pure); ``population`` is the applicant population with a
known true PD whose columns are feature-catalogue features."""
