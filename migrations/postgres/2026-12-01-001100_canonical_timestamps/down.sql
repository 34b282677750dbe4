-- Nothing to undo: the rows keep their instant, only the spelling changed.
SELECT 1;
