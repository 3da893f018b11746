from smartpick_gateway.domain import sessions


def test_a_sign_in_code_matches_however_it_is_typed():
    code = sessions.new_sign_in_code()
    assert code.secret_sha256 == sessions.sign_in_code_hash(code.token)
    assert code.secret_sha256 == sessions.sign_in_code_hash(code.token.lower().replace("-", " "))
    assert code.secret_sha256 != sessions.sign_in_code_hash(sessions.new_sign_in_code().token)


def test_a_session_token_parses_back_to_its_id_and_secret():
    session = sessions.new_session()
    session_id, secret = sessions.parse_session_token(session.token)
    assert session_id == session.id
    assert sessions.session_secret_matches(secret, session.secret_sha256)
    assert not sessions.session_secret_matches(secret + "x", session.secret_sha256)
    assert sessions.parse_session_token("spk_abc_def") is None
    assert sessions.parse_session_token("sps__secret") is None


def test_state_changes_need_the_sessions_own_csrf_token():
    token, other = sessions.new_session().token, sessions.new_session().token
    assert sessions.csrf_ok("GET", token, None)
    assert not sessions.csrf_ok("POST", token, None)
    assert not sessions.csrf_ok("PUT", token, sessions.csrf_token(other))
    assert sessions.csrf_ok("delete", token, sessions.csrf_token(token))
    assert token not in sessions.csrf_token(token)


def test_session_ids_are_told_apart_from_api_keys():
    assert sessions.session_id_of("session:abc") == "abc"
    assert sessions.session_id_of("0123abcd") is None
