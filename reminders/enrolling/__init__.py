"""Enrolling: turning a therapist's few fields into a patient record and a week of planned messages, and the changes of care after it."""
