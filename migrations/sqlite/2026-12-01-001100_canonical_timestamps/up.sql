-- SQLite keeps a timestamp as text and compares it as text, so every one
-- must be spelled as the application writes it (diesel's `%F %T%.f`: no
-- fraction on a whole second, else 3, 6 or 9 digits). Two spellings of one
-- instant do not compare equal, and `…:12.000` sorts after `…:12`: a page
-- cursor on such a row hands the same page back. 2026-12-01-000300 wrote
-- strftime('%f'), which spells a whole second `.000`; these rows now read
-- as the application would have written them. PostgreSQL stores
-- timestamps as timestamps: it has nothing to respell.
UPDATE bar_raiser_program SET certified_at = substr(certified_at, 1, 19)
    WHERE certified_at LIKE '%.000';
UPDATE bar_raiser_program SET updated_at = substr(updated_at, 1, 19)
    WHERE updated_at LIKE '%.000';
