-- A student's matches (suggestions and the student's view read them on every call).
CREATE INDEX matches_by_student ON matches (student_id, status);
