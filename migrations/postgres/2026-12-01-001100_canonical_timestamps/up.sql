-- PostgreSQL stores timestamps as timestamps: there is no spelling to
-- mend. This migration exists so both backends share one version list.
SELECT 1;
