import { byRecord, type EmployeeRow, hasColumns, type Lined } from './contract.js';

const REQUIRED = ['Full name', 'Email', 'Employee ID', 'Department', 'Location'];

/**
 * Workplace (Meta) employee data export, as the product gives it (XLSX) or saved as CSV: the
 * directory. Workplace has no level or leadership flags: someone is a manager when another row
 * names them as "Manager employee ID" (is_manager NULL: decided in DuckDB once the whole file is
 * staged, as the file is read in slices); nobody is marked executive (the canonical directory can).
 * "Job title" goes to level for lack of a better field. People without an employee id are keyed by
 * their email, which is what every platform export can match anyway.
 */
export const workplaceEmployees = byRecord({
  kind: 'workplace-employees',
  description: 'Workplace employee data export, XLSX or CSV (the directory)',
  detect: (header) => hasColumns(header, [...REQUIRED, 'Manager employee ID']),
  parseTable(table) {
    table.require(REQUIRED);
    const rows: Lined<EmployeeRow>[] = table.records.map((r) => {
      const email = r.optStr('Email')?.toLowerCase() ?? null;
      const id = r.optStr('Employee ID') ?? email ?? r.fail('Employee ID', 'is empty and so is Email');
      return {
        line: r.line,
        employee_id: id,
        email,
        display_name: r.optStr('Full name'),
        department: r.optStr('Department'),
        location: r.optStr('Location'),
        level: r.optStr('Job title'),
        is_manager: null,
        is_executive: false,
        manager_id: r.optStr('Manager employee ID'),
        hire_date: r.date('Start date'),
        term_date: null,
        as_of: null,
      };
    });
    return { employees: rows };
  },
});
