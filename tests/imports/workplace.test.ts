import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/store.js';
import { openTestStore } from '../helpers/store.js';
import { counts, fixture, importAt, isoDay, textFile, xlsxOf } from './helpers.js';

let store: Store;
let cleanup: () => void;
beforeEach(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterEach(() => cleanup());

const CSV = 'exports/workplace_employee_data_export.csv';

describe('Workplace employee data export', () => {
  it("imports the CSV as the directory, managers being those named as someone's manager", async () => {
    const outcome = await importAt(store, 'auto', [fixture(CSV)]);
    expect(outcome.files[0]).toMatchObject({ kind: 'workplace-employees', rows: { employees: 2 } });
    const [e1] = await store.query("SELECT * FROM employees WHERE employee_id = 'E001'");
    // User 01,user01@example.com,E001,Sales Manager,Sales,Commercial,Example Co,Seoul,2019-03-01,E005,...
    expect(e1).toMatchObject({
      email: 'user01@example.com',
      display_name: 'User 01',
      department: 'Sales',
      location: 'Seoul',
      level: 'Sales Manager',
      manager_id: 'E005',
      is_manager: false,
      is_executive: false,
    });
    expect(isoDay(e1?.hire_date)).toBe('2019-03-01');
    expect(await counts(store)).toMatchObject({ employee_history: 2, identity_map: 4 });
    expect((await importAt(store, 'auto', [fixture(CSV)])).files[0]?.duplicate).toBe(true);
  });

  it('imports the same data as XLSX, detected by auto, with Excel dates read in UTC', async () => {
    const xlsx = { name: 'employees.xlsx', content: await xlsxOf(fixture(CSV).content.toString('utf8')) };
    const outcome = await importAt(store, 'auto', [xlsx]);
    expect(outcome.files[0]).toMatchObject({ kind: 'workplace-employees', rows: { employees: 2 } });
    const rows = await store.query('SELECT employee_id, department, hire_date FROM employees ORDER BY 1');
    expect(rows.map((r) => [r.employee_id, r.department, isoDay(r.hire_date)])).toEqual([
      ['E001', 'Sales', '2019-03-01'],
      ['E003', 'R&D', '2021-07-15'],
    ]);
  });

  it('names the sheet row and column of a bad date in an XLSX and writes nothing', async () => {
    const text = `${fixture(CSV).content.toString('utf8').trimEnd()}\nUser 04,user04@example.com,E004,Engineer,R&D,Product,Example Co,Busan,,E006,Yes,Active,No,No,No,No,0,0,0,0\n`;
    const bad = text.replace('2021-07-15', 'soon');
    await expect(importAt(store, 'auto', [{ name: 'e.xlsx', content: await xlsxOf(bad) }])).rejects.toThrow(
      'e.xlsx:3 column "Start date": "soon" is not a date',
    );
    expect(Object.values(await counts(store)).every((n) => n === 0)).toBe(true);
  });

  it('marks someone a manager when another row names them; BOM, reordered and extra columns are fine', async () => {
    const text = `\uFEFFEmail,Full name,Employee ID,Department,Location,Manager employee ID,Shoe size\nboss@example.com,Boss,E100,Sales,Seoul,,44\nuser01@example.com,User 01,E001,Sales,Seoul,E100,42\n`;
    await importAt(store, 'auto', [textFile('wp.csv', text)]);
    const rows = await store.query('SELECT employee_id, is_manager FROM employees ORDER BY 1');
    expect(rows).toEqual([
      { employee_id: 'E001', is_manager: false },
      { employee_id: 'E100', is_manager: true },
    ]);
  });
});
