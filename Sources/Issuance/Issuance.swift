// Issuance: see README.md
