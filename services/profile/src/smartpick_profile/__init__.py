"""Profile service: the system of record for schools, students and versioned applicant profiles."""
