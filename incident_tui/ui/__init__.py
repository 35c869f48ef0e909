"""The Textual war-room app: screens, widgets and the live sync that feeds them."""
