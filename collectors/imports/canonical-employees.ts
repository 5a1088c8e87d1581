import { byRecord, type EmployeeRow, hasColumns, type Lined } from './contract.js';

const REQUIRED = ['employee_id', 'email', 'department', 'location', 'level', 'is_manager', 'is_executive'];

/**
 * The org directory (canonical employees.csv). An optional `as_of` column says which day the
 * directory describes; without it the import day is used, so a department move shows from then on.
 */
export const canonicalEmployees = byRecord({
  kind: 'employees',
  description: 'org directory CSV (employee_id, email, department, location, level, is_manager, ...)',
  detect: (header) => hasColumns(header, REQUIRED),
  parseTable(table) {
    table.require(REQUIRED);
    const rows: Lined<EmployeeRow>[] = table.records.map((r) => ({
      line: r.line,
      employee_id: r.str('employee_id'),
      email: r.optStr('email')?.toLowerCase() ?? null,
      display_name: r.optStr('display_name'),
      department: r.optStr('department'),
      location: r.optStr('location'),
      level: r.optStr('level'),
      is_manager: r.bool('is_manager') ?? false,
      is_executive: r.bool('is_executive') ?? false,
      manager_id: r.optStr('manager_id'),
      hire_date: r.date('hire_date'),
      term_date: r.date('term_date'),
      as_of: r.date('as_of'),
    }));
    return { employees: rows };
  },
});
