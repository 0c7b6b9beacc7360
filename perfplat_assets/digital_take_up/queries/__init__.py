"""How digital take-up reads its sources: Sirius's SQL, and the product team's figures file."""
