"""The Slack edge: Block Kit rendering and delivery."""
