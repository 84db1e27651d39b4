"""Every write to export jobs and substrates. Views, admin actions, commands and tasks call these."""
