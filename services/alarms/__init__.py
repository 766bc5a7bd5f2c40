"""CloudWatch alarms as the alarm screen sees them: the service (reads through a CloudWatchExtras backend),
its view-model, and the changes (mute, test-fire, edit, delete) as plan steps."""
