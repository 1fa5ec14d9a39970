"""The Slack adapter: ingress, trade modal, the seed's messages as Block Kit, notifier, App Home."""
