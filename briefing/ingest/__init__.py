"""Turn sources (files, directories, HTML, feeds, URLs, stdin) into clean Articles."""
