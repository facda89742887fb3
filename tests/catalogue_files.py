"""Small catalogue files for tests, in both formats."""

import io

import openpyxl

from market.catalogue.files import COLUMNS

ROWS = [
    ["01", "养老服务", "Elderly care", "", "", "", "", "", "", "", "", "", "", ""],
    ["01.01", "居家养老", "Home-based care", "", "", "", "", "", "", "", "", "", "", ""],
    ["01.01.01", "助餐服务", "Meal service", "为老年人提供助餐", "Meals for older people", "人次", "meal", "8", "15.50",
     "social_service_agency;social_group", "3", "1", "district", "服务人次|Meals served|人次;满意度|Satisfaction|%"],
    ["01.01.02", "上门助浴", "Home bathing", "上门助浴服务", "Bathing at home", "人次", "visit", "60", "120",
     "social_service_agency", "", "", "any", "服务人次|Visits|人次"],
    ["08", "专业社会工作", "Professional social work", "", "", "", "", "", "", "", "", "", "", ""],
    ["08.01", "社工站", "Social-work stations", "", "", "", "", "", "", "", "", "", "", ""],
    ["08.01.01", "街道社工站运营", "Street social-work station", "运营社工站", "Run a station", "个站点·年", "site-year",
     "150000", "300000", "social_service_agency", "4A", "3", "any", "个案数|Cases|个;满意度|Satisfaction|%"],
]


def csv_bytes(rows=ROWS, header=COLUMNS, encoding="utf-8") -> bytes:
    import csv
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows=ROWS, header=COLUMNS, numeric_codes=False) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        values = list(row)
        if numeric_codes:
            values[0] = float(values[0]) if values[0].count(".") <= 1 else values[0]
        for i in (7, 8):  # prices as numbers, the way Excel stores them
            if values[i]:
                values[i] = float(values[i])
        sheet.append(values)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
