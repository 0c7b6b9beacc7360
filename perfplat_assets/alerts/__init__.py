"""What reaches a person: alerts on Slack and SNS, and the record of what was sent."""
