"""Africa's Talking: USSD callbacks (form bodies, cumulative ``text``, ``CON``/``END`` replies)."""
