// KofuServer: see README.md
