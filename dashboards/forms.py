"""Dashboard forms: every input an instructor types is validated here."""

from __future__ import annotations

from django import forms


class CohortForm(forms.Form):
    name = forms.CharField(max_length=120, strip=True)
    expires_in_days = forms.IntegerField(
        required=False, min_value=1, max_value=365, label="Join link expires after (days, optional)"
    )


class RotateForm(forms.Form):
    expires_in_days = forms.IntegerField(
        required=False, min_value=1, max_value=365, label="New link expires after (days, optional)"
    )


class CoInstructorForm(forms.Form):
    username = forms.CharField(max_length=150, label="Instructor's username")
