"""Use a lasting power of attorney: its user satisfaction, from GOV.UK's feedback on its done page."""
