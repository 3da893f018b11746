// The school admin's page: people and sign-in links, API keys, program facts, mentorship rounds and settings.
import { useEffect } from "preact/hooks";
import { requireSession, type Session } from "../api/client";
import { ApiKeys } from "../components/admin-keys";
import { ProgramFacts } from "../components/admin-facts";
import { Matching } from "../components/admin-matching";
import { People } from "../components/admin-people";
import { markContent, mount, Page } from "../components/page";

function Admin({ session }: { session: Session }) {
  useEffect(markContent, []);
  return (
    <Page title="School admin" session={session}>
      <nav aria-label="Sections" class="actions">
        <a href="#people-heading">People</a> <a href="#keys-heading">API keys</a> <a href="#facts-heading">Program facts</a> <a href="#matching-heading">Mentorship</a>
      </nav>
      <People schoolId={session.school_id} />
      <ApiKeys schoolId={session.school_id} />
      <ProgramFacts />
      <Matching />
    </Page>
  );
}

void requireSession().then((session) => mount(<Admin session={session} />));
