-- Public per-program facts (program_facts.csv, program_signal_interview_rates.csv) beside each catalog
-- program, with their provenance; a school's own facts gain the new kinds (J-1 and H-1B apart, the
-- US MD share, "community affiliated" programs).
ALTER TABLE programs ADD COLUMN public_facts jsonb NOT NULL DEFAULT '{}';

ALTER TABLE program_facts DROP CONSTRAINT program_facts_program_type_check;
ALTER TABLE program_facts ADD CONSTRAINT program_facts_program_type_check
    CHECK (program_type IN ('academic', 'community_affiliated', 'community'));
ALTER TABLE program_facts ADD COLUMN sponsors_j1 boolean;
ALTER TABLE program_facts ADD COLUMN sponsors_h1b boolean;
ALTER TABLE program_facts ADD COLUMN md_share double precision CHECK (md_share BETWEEN 0 AND 1);
UPDATE program_facts SET sponsors_j1 = sponsors_visa, sponsors_h1b = sponsors_visa;
ALTER TABLE program_facts DROP COLUMN sponsors_visa;
