-- Mentor keys: each is bound to one mentor (mentorship service); a platform-wide mentor's key has no school.
ALTER TABLE api_keys ADD COLUMN mentor_id uuid;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role IN ('operator', 'school_admin', 'advisor', 'student', 'mentor'));
ALTER TABLE api_keys ADD CONSTRAINT api_keys_school_check
    CHECK (CASE role WHEN 'operator' THEN tenant_id IS NULL WHEN 'mentor' THEN true ELSE tenant_id IS NOT NULL END);
ALTER TABLE api_keys ADD CONSTRAINT api_keys_mentor_check CHECK ((role = 'mentor') = (mentor_id IS NOT NULL));
