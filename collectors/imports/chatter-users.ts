import { bySlices, hasColumns } from './contract.js';

const REQUIRED = ['Id', 'Email', 'Username'];

/**
 * Salesforce User (SOQL export: Id, Email, Username): Chatter rows carry Salesforce user ids
 * (005...), which no directory knows; each id is mapped to the employee whose directory email is the
 * user's Email (identity_map, platform chatter), and rows already stored are matched at once.
 */
export const chatterUsers = bySlices({
  kind: 'chatter-users',
  description: 'Salesforce User SOQL export (Id, Email): maps Chatter user ids to employees by email',
  detect: (header) => hasColumns(header, REQUIRED) && !hasColumns(header, ['ParentId']),
  slices() {
    // The ids seen in earlier slices of the file, to name the first line of a repeated one.
    const seen = new Map<string, number>();
    return (table) => {
      table.require(REQUIRED);
      return {
        identities: table.records.map((r) => {
          const id = r.str('Id');
          const first = seen.get(id.toLowerCase());
          if (first !== undefined) r.fail('Id', `"${id}" is also on line ${first}`);
          seen.set(id.toLowerCase(), r.line);
          return { line: r.line, platform: 'chatter', user_key: id, email: r.optStr('Email') };
        }),
      };
    };
  },
});
