-- Placeholder: issue 17's other branch ships the real migration 0005; this file only keeps the
-- numbering without gaps until the branches are merged, and is deleted then.
SELECT 1;
