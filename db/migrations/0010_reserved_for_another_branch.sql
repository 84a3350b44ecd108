-- Number 0010 is assigned to another branch; this empty step keeps the numbering whole here.
-- Delete this file when that branch's 0010 is merged.
SELECT 1;
