-- Number 0008 is assigned to another branch; this empty step keeps the numbering whole here.
-- Delete this file when that branch's 0008 is merged.
SELECT 1;
