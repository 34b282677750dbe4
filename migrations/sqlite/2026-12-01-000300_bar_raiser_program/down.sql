DROP TABLE reverse_shadows;
DROP TABLE bar_raiser_sign_offs;
DROP TABLE bar_raiser_program;
