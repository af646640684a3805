// CardAuth: see README.md
