"""The residents' own pages: a resident opens their invitation link on their own phone, reads
the notice, chooses a face or a PIN (or both, or neither), and can take it all back (R1, R2,
R3, R6, R7, R10, R11). Server-rendered, phone-first, in English and Simplified Chinese, with
nothing loaded from any other origin (R9) and no JavaScript needed."""
